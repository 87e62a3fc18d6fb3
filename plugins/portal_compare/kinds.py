"""The four comparisons this plugin registers, as functions of a ``ComparisonContext``.

Each loads what it needs in a fixed number of queries (``forum_rounds``/``cluster_rounds``:
one each) and returns plain data the templates, the report and the XLSX export share. The
forum counts each cluster's newest full round; a newer partial round never replaces it
silently (it is shown marked), and a round that covers part of the set says how much. A
cluster's older round meets the forum as it was on that round's day. The
forum's kinds take the forum's statistics from ``portal_compare.forumstats``, which the pages
keep between requests while the rounds and clusters stay the same.
Privacy is applied here, once: values of clusters the viewer may not see never leave these
functions, and aggregates of fewer than ``context.min_group`` clusters are suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import g, has_request_context

from portal.toolkit import (
    ClusterRound,
    ComparisonContext,
    ComparisonKind,
    Coverage,
    ForumRounds,
    _,
    _l,
    cluster_rounds,
    current_tenant,
    forum_rounds,
    pick_text,
)
from portal_compare.forum_over_time import forum_over_time
from portal_compare.forumstats import ForumStats, forum_stats
from portal_compare.stats import Summary, position, summarise

# --- shared pieces --------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorInfo:
    id: str
    name: str
    group_id: str
    group: str
    minimum: float
    maximum: float
    higher_is_better: bool
    unit: str


def indicator_infos(context: ComparisonContext) -> list[IndicatorInfo]:
    indicator_set, locale = context.indicator_set, context.locale
    groups = {g.id: pick_text(g.name, locale) for g in indicator_set.groups}
    return [
        IndicatorInfo(
            i.id,
            pick_text(i.name, locale),
            i.group,
            groups.get(i.group, i.group),
            i.minimum,
            i.maximum,
            i.higher_is_better,
            i.unit,
        )
        for i in indicator_set.indicators
    ]


def _shared(loader, *key):
    """A loader's answer, shared by the kinds of one page: the pages switch the sharing on
    (``g.compare_rounds``) while they compute, so the scorecard and the references read the
    forum's rounds once. Elsewhere (tests, other callers) every call reads afresh."""
    memo = g.get("compare_rounds") if has_request_context() else None
    if memo is None:
        return loader(*key)
    if (loader, key) not in memo:
        memo[(loader, key)] = loader(*key)
    return memo[(loader, key)]


def _forum(indicator_set, on=None) -> ForumRounds:
    """The round each cluster counts with (``forum_rounds``), up to ``on``: shared by the
    kinds of a page like ``_shared``."""
    memo = g.get("compare_rounds") if has_request_context() else None
    if memo is None:
        return forum_rounds(indicator_set, on=on)
    key = (forum_rounds, (indicator_set.key, on))
    if key not in memo:
        memo[key] = forum_rounds(indicator_set, on=on)
    return memo[key]


def _cluster_rounds(cluster_id: int, indicator_set) -> list[ClusterRound]:
    return [
        r
        for r in _shared(cluster_rounds, cluster_id, indicator_set.id)
        if r.set_version == indicator_set.version
    ]


def _summaries(context: ComparisonContext, rounds: list[ClusterRound]) -> dict[str, Summary | None]:
    """Per indicator, the group's aggregate; None when there is none or it is too small."""
    result: dict[str, Summary | None] = {}
    for indicator in context.indicator_set.indicators:
        present = [r.values[indicator.id] for r in rounds if indicator.id in r.values]
        summary = summarise([v for v, _l in present], [light for _v, light in present])
        result[indicator.id] = (
            summary if summary is not None and summary.count >= context.min_group else None
        )
    return result


# --- 1. one cluster over time -----------------------------------------------------------------


@dataclass
class OverTimeRow:
    indicator: IndicatorInfo
    points: list[tuple[float, str] | None]  # per round: (value, light) or None
    change: str | None  # newest against the one before: improved / declined / same


@dataclass
class OverTime:
    rounds: list[ClusterRound]
    rows: list[OverTimeRow]
    coverage: list[Coverage] = field(default_factory=list)  # per round

    @property
    def partial(self) -> list[tuple[ClusterRound, Coverage]]:
        """The partial rounds among them, with how much they cover."""
        return [(r, c) for r, c in zip(self.rounds, self.coverage, strict=True) if c.partial]

    @property
    def counts(self) -> dict[str, int]:
        found = {"improved": 0, "declined": 0, "same": 0}
        for row in self.rows:
            if row.change:
                found[row.change] += 1
        return found


def cluster_over_time(context: ComparisonContext) -> OverTime:
    indicator_set = context.indicator_set
    rounds = _cluster_rounds(context.cluster.id, indicator_set)
    by_id = {i.id: i for i in indicator_set.indicators}
    rows = []
    for info in indicator_infos(context):
        points = [r.values.get(info.id) for r in rounds]
        known = [p for p in points if p is not None]
        change = by_id[info.id].compare(known[-2][0], known[-1][0]) if len(known) >= 2 else None
        rows.append(OverTimeRow(info, points, change))
    return OverTime(rounds, rows, [indicator_set.coverage(r.values) for r in rounds])


# --- 2. one cluster against the forum ---------------------------------------------------------


@dataclass
class AgainstRow:
    indicator: IndicatorInfo
    value: float | None
    light: str | None
    forum: Summary | None  # the other clusters' newest rounds; None when too few
    position: float | None  # the cluster's value on the scale, 0 worst .. 1 best


@dataclass
class AgainstForum:
    round: ClusterRound | None
    others: int  # how many other clusters have a round of this set version
    suppressed: bool  # too few others to show aggregates
    rows: list[AgainstRow]
    coverage: Coverage | None = None  # of the cluster's round
    # The day the forum is taken at: the round's own day for an older round (the others'
    # rounds up to then), None for the newest round (the forum as it is now).
    forum_on: Any = None
    partial_others: int = 0  # other clusters counted with a partial round (no full one)
    newer_partial_others: int = 0  # ... with a full round although a newer one is partial


def cluster_against_forum(context: ComparisonContext) -> AgainstForum:
    indicator_set = context.indicator_set
    own_rounds = _cluster_rounds(context.cluster.id, indicator_set)
    wanted = context.options.get("round_id")
    own = next(
        (r for r in own_rounds if r.round_id == wanted), own_rounds[-1] if own_rounds else None
    )
    # An older round meets the forum as it was on its day (the other clusters' rounds up to
    # then), never the rounds held since.
    forum_on = own.held_on if own is not None and own is not own_rounds[-1] else None
    forum = _forum(indicator_set, forum_on)
    others = [r for r in forum.counted if r.cluster_id != context.cluster.id]
    newer_partial = [r for r in forum.newer_partial if r.cluster_id != context.cluster.id]
    summaries = _summaries(context, others)
    rows = []
    for info in indicator_infos(context):
        value_light = own.values.get(info.id) if own else None
        value, light = value_light if value_light else (None, None)
        rows.append(
            AgainstRow(
                info,
                value,
                light,
                summaries[info.id],
                position(value, info.minimum, info.maximum, info.higher_is_better)
                if value is not None
                else None,
            )
        )
    return AgainstForum(
        own,
        len(others),
        len(others) < context.min_group,
        rows,
        indicator_set.coverage(own.values) if own is not None else None,
        forum_on,
        sum(1 for r in others if indicator_set.coverage(r.values).partial),
        len(newer_partial),
    )


# --- 3. the forum's portfolio scorecard -------------------------------------------------------


@dataclass
class ScoreRow:
    """One cluster's row of the heat map."""

    label: str  # its name, or "Cluster 3" where names are not shown
    cluster_id: int | None  # None where the viewer may not know which cluster it is
    held_on: Any
    cells: list[tuple[float, str] | None] | tuple  # per indicator
    score: float | None = None  # over the group the rows are sorted by, else every indicator
    coverage: Coverage | None = None  # of the round: a partial one's score says so


@dataclass(frozen=True)
class NewerPartial:
    """A newer partial round of a cluster whose older full round the scorecard counts."""

    label: str  # as the cluster's row is labelled
    held_on: Any
    coverage: Coverage


@dataclass
class Standing:
    indicator: IndicatorInfo
    summary: Summary
    score: float  # the median's position on the scale, 0 worst .. 1 best


@dataclass
class Scorecard:
    indicators: list[IndicatorInfo]
    rows: list[ScoreRow]  # the page's rows; empty for viewers who may only see aggregates
    summaries: dict[str, Summary | None]
    clusters: int
    suppressed: bool
    strengths: list[Standing]
    weaknesses: list[Standing]
    sort: str
    total_rows: int = -1  # the rows on every page (-1: ``rows`` are all of them)
    page: int = 1
    pages: int = 1
    offset: int = 0  # how many rows the pages before this one hold
    # Drawings kept with the forum's statistics (the charts use them where they can).
    drawings: dict | None = field(default=None, repr=False, compare=False)
    partial_count: int = 0  # clusters counted with a partial round (they have no full one)
    newer_partial_count: int = 0  # clusters with a newer partial round, not counted
    newer_partial: list[NewerPartial] = field(default_factory=list)  # those the viewer sees
    newer_partial_more: int = 0  # more of them than a page lists (``NEWER_PARTIAL_SHOWN``)

    def __post_init__(self):
        if self.total_rows < 0:
            self.total_rows = len(self.rows)

    @property
    def first_index(self) -> int:
        return self.offset + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return self.offset + len(self.rows)


SORTS = ("name", "score", "-score")  # also "group:<id>" and "-group:<id>" ("-": best first)
PER_PAGE = 25  # heat map rows on a page; a report (no "page" option) has all of them
# The printable report (and its PDF) lists at most this many clusters: its size stays bounded
# at any forum size; the Excel file and the scorecard's pages have every row.
REPORT_ROWS = 100
NEWER_PARTIAL_SHOWN = 20  # clusters with a newer partial round named on a page


def row_score(
    cells: list[tuple[float, str] | None], infos: list[IndicatorInfo], group: str | None = None
) -> float:
    """A row's mean position on the indicators' scales (0 worst .. 1 best), over one group's
    indicators when ``group`` is given."""
    scores = [
        position(cell[0], info.minimum, info.maximum, info.higher_is_better)
        for cell, info in zip(cells, infos, strict=True)
        if cell is not None and (group is None or info.group_id == group)
    ]
    return sum(scores) / len(scores) if scores else 0.0


def valid_sort(sort: Any, infos: list[IndicatorInfo]) -> str:
    """The sort asked for when it is one of ``SORTS`` or a group of the set, else "name"."""
    sort = sort if isinstance(sort, str) else "name"
    key = sort.removeprefix("-")
    if sort in SORTS or (
        key.startswith("group:") and key.removeprefix("group:") in {i.group_id for i in infos}
    ):
        return sort
    return "name"


def sort_group(sort: str) -> str | None:
    """The group a scorecard is sorted by ("group:<id>" or "-group:<id>"), if any."""
    key = sort.removeprefix("-")
    return key.removeprefix("group:") if key.startswith("group:") else None


def standings(infos: list[IndicatorInfo], summaries: dict[str, Summary | None]) -> list[Standing]:
    """Indicators by the forum's median position on their scale, best first."""
    found = [
        Standing(
            info,
            summaries[info.id],
            position(summaries[info.id].median, info.minimum, info.maximum, info.higher_is_better),
        )
        for info in infos
        if summaries.get(info.id) is not None
    ]
    return sorted(found, key=lambda s: (-s.score, s.indicator.name))


def _stats(context: ComparisonContext) -> ForumStats:
    tenant_id = context.tenant.id if context.tenant is not None else current_tenant().id
    return forum_stats(tenant_id, context.indicator_set, loader=_forum)


def _shown(context: ComparisonContext, summaries: dict[str, Summary | None]):
    """The aggregates the viewer may see: none of fewer than ``min_group`` clusters."""
    return {
        key: summary if summary is not None and summary.count >= context.min_group else None
        for key, summary in summaries.items()
    }


def _page(context: ComparisonContext, total: int) -> tuple[int, int, int | None]:
    """(page, pages, rows per page) of the ``page`` option; no option: one page of all."""
    wanted = context.options.get("page")
    if wanted is None:
        return 1, 1, None
    per_page = int(context.options.get("per_page") or PER_PAGE)
    pages = max(1, -(-total // per_page))
    try:
        page = int(wanted)
    except (TypeError, ValueError):
        page = 1
    return min(max(page, 1), pages), pages, per_page


def forum_scorecard(context: ComparisonContext) -> Scorecard:
    """The forum's scorecard. The statistics come from ``forum_stats`` (all clusters, kept
    between requests); privacy is applied here, per request: which rows the viewer sees,
    with names or numbers, and which aggregates are big enough to show."""
    infos = indicator_infos(context)
    stats = _stats(context)
    summaries = _shown(context, stats.summaries)
    sort = valid_sort(context.options.get("sort", "name"), infos)
    group = sort_group(sort)
    if context.sees_all:
        # Unnamed rows carry their clusters' stable pseudonyms and come in their order: an
        # order by name (or by entry) would tell the names.
        order = stats.order(sort, by_name=context.show_names)
    elif context.visible_cluster_ids:  # the viewer's own clusters only, by name
        visible = context.visible_cluster_ids
        order = [n for n in stats.order(sort, True) if stats.rounds[n].cluster_id in visible]
    else:
        order = []
    page, pages, per_page = _page(context, len(order))
    offset = (page - 1) * per_page if per_page else 0
    shown = order[offset : offset + per_page] if per_page else order
    scores = stats.scores.get(group) or stats.scores[None]
    named = context.show_names or not context.sees_all

    def label(round_) -> str:
        if named:
            return round_.cluster_name
        return _("Cluster %(n)d", n=stats.numbers[round_.cluster_id])

    rows = []
    for n in shown:
        round_ = stats.rounds[n]
        rows.append(
            ScoreRow(
                label(round_),
                round_.cluster_id if named else None,
                round_.held_on,
                round_.cells,
                scores[n],
                round_.coverage,
            )
        )
    # Newer partial rounds: named as the viewer's rows are, for the clusters they see.
    seen = [
        r
        for r in stats.newer_partial
        if context.sees_all or r.cluster_id in context.visible_cluster_ids
    ]
    if not named:  # by number, not by name
        seen.sort(key=lambda r: stats.numbers.get(r.cluster_id, 0))
    newer = [NewerPartial(label(r), r.held_on, r.coverage) for r in seen]
    ranked = standings(infos, summaries)
    top = min(5, len(ranked) // 2)
    return Scorecard(
        infos,
        rows,
        summaries,
        stats.count,
        stats.count < context.min_group,
        ranked[:top],
        list(reversed(ranked[-top:])) if top else [],
        sort,
        total_rows=len(order),
        page=page,
        pages=pages,
        offset=offset,
        drawings=stats.drawings,
        partial_count=stats.partial_count,
        newer_partial_count=len(stats.newer_partial),
        newer_partial=newer[:NEWER_PARTIAL_SHOWN],
        newer_partial_more=max(len(newer) - NEWER_PARTIAL_SHOWN, 0),
    )


# --- 4. the forum against reference portfolios ------------------------------------------------


@dataclass
class ReferenceColumn:
    id: int
    name: str
    cluster_count: int
    summaries: dict[str, Summary | None]


@dataclass
class Gap:
    indicator: IndicatorInfo
    forum: Summary
    reference: Summary
    gap: float  # forum median minus reference median, as a share of the scale (+ is better)


@dataclass
class AgainstReferences:
    indicators: list[IndicatorInfo]
    forum: dict[str, Summary | None]
    clusters: int
    suppressed: bool
    references: list[ReferenceColumn]
    lags: list[Gap] = field(default_factory=list)  # the first reference, worst gap first


def forum_against_references(context: ComparisonContext) -> AgainstReferences:
    from portal_compare.references import reference_columns

    infos = indicator_infos(context)
    stats = _stats(context)
    forum = _shown(context, stats.summaries)
    columns = reference_columns(context, context.options.get("reference_ids") or [])
    lags = []
    if columns:
        first = columns[0]
        for info in infos:
            ours, theirs = forum.get(info.id), first.summaries.get(info.id)
            if ours is None or theirs is None:
                continue
            span = (info.maximum - info.minimum) or 1.0
            gap = (ours.median - theirs.median) / span
            lags.append(Gap(info, ours, theirs, gap if info.higher_is_better else -gap))
        lags.sort(key=lambda g: (g.gap, g.indicator.name))
    return AgainstReferences(
        infos, forum, stats.count, stats.count < context.min_group, columns, lags
    )


KINDS = (
    ComparisonKind(
        "over-time",
        _l("The cluster over time"),
        cluster_over_time,
        "compare/_over_time.html",
        scope="cluster",
        order=10,
    ),
    ComparisonKind(
        "against-forum",
        _l("The cluster against the forum"),
        cluster_against_forum,
        "compare/_against_forum.html",
        scope="cluster",
        order=20,
    ),
    ComparisonKind(
        "scorecard",
        _l("Forum portfolio scorecard"),
        forum_scorecard,
        "compare/_scorecard.html",
        scope="forum",
        order=30,
    ),
    ComparisonKind(
        "references",
        _l("The forum against reference portfolios"),
        forum_against_references,
        "compare/_references.html",
        scope="forum",
        order=40,
    ),
    ComparisonKind(
        "forum-over-time",
        _l("The forum over time"),
        forum_over_time,
        "compare/_forum_over_time.html",
        scope="forum",
        order=50,
    ),
)
