"""The four comparisons this plugin registers, as functions of a ``ComparisonContext``.

Each loads what it needs in a fixed number of queries (``latest_rounds``/``cluster_rounds``:
one each) and returns plain data the templates, the report and the XLSX export share. The
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
    _,
    _l,
    cluster_rounds,
    current_tenant,
    latest_rounds,
    pick_text,
)
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


def _latest(indicator_set) -> list[ClusterRound]:
    return _shared(latest_rounds, indicator_set.id, indicator_set.version)


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
    return OverTime(rounds, rows)


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


def cluster_against_forum(context: ComparisonContext) -> AgainstForum:
    indicator_set = context.indicator_set
    latest = _latest(indicator_set)
    own_rounds = _cluster_rounds(context.cluster.id, indicator_set)
    wanted = context.options.get("round_id")
    own = next(
        (r for r in own_rounds if r.round_id == wanted), own_rounds[-1] if own_rounds else None
    )
    others = [r for r in latest if r.cluster_id != context.cluster.id]
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
    return AgainstForum(own, len(others), len(others) < context.min_group, rows)


# --- 3. the forum's portfolio scorecard -------------------------------------------------------


@dataclass
class ScoreRow:
    """One cluster's row of the heat map."""

    label: str  # its name, or "Cluster 3" where names are not shown
    cluster_id: int | None  # None where the viewer may not know which cluster it is
    held_on: Any
    cells: list[tuple[float, str] | None] | tuple  # per indicator
    score: float | None = None  # over the group the rows are sorted by, else every indicator


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
    return forum_stats(tenant_id, context.indicator_set, loader=_latest_of)


def _latest_of(set_id: str, version: str) -> list[ClusterRound]:
    return _shared(latest_rounds, set_id, version)


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
        # Unnamed rows are numbered in the order rounds were entered, and come in that order:
        # an order by name would tell the names.
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
    rows = []
    for n in shown:
        round_ = stats.rounds[n]
        rows.append(
            ScoreRow(
                round_.cluster_name
                if named
                else _("Cluster %(n)d", n=stats.numbers[round_.round_id]),
                round_.cluster_id if named else None,
                round_.held_on,
                round_.cells,
                scores[n],
            )
        )
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
)
