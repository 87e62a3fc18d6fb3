"""The comparison kind "forum-over-time": between two coordinated benchmarkings of the forum,
which indicators improved at forum level, the work (actions, joint actions) aimed at them in
between, and its measured effect. On the forum page and in the funders' report alike.

Loads a fixed number of queries, whatever the size of the forum: the rounds' days, each
wave's rounds (one query each), the region's work on the set's indicators (the core's query
and one or two per plugin that answers ``indicator_work``) and their values (one query).
The arithmetic is :mod:`portal_compare.forum_progress` (the forum) and the core's ``effect``
(each piece of work); the core's privacy policy decides what the viewer sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from portal.toolkit import (
    ComparisonContext,
    Measured,
    Measurer,
    Window,
    exact,
    format_share,
    latest_rounds,
    pick_text,
    region_work,
    round_days,
    values_view,
)
from portal_compare.forum_progress import IndicatorMove, Wave, moves, waves
from portal_compare.forumstats import kept_while_unchanged

MAX_WORK_SHOWN = 12  # pieces of work listed per indicator; the rest are counted


@dataclass(frozen=True)
class MovedIndicator:
    move: IndicatorMove
    name: str
    group: str
    higher_is_better: bool
    minimum: float
    maximum: float
    work: list[Measured] = field(default_factory=list)
    more_work: int = 0

    def share(self, side: str, light: str) -> str:
        """The share of clusters with the light in one wave, in per cent with one decimal
        (cut, never rounded up across a threshold); "" when not shown."""
        found = getattr(self.move, side)
        return "" if found is None else format_share(found.lights[light], self.move.clusters)

    def x(self, value: Any, width: int = 200) -> float:
        """Where a value lies on a line ``width`` wide: the indicator's scale, worst left."""
        low, high = Decimal(str(self.minimum)), Decimal(str(self.maximum))
        if high == low:
            return width / 2
        place = min(max((Decimal(value) - low) / (high - low), Decimal(0)), Decimal(1))
        if not self.higher_is_better:
            place = 1 - place
        return round(float(place) * width, 1)


@dataclass(frozen=True)
class ForumOverTime:
    waves: list[Wave]
    before: Wave | None = None
    after: Wave | None = None
    indicators: list[MovedIndicator] = field(default_factory=list)
    min_group: int = 0

    @property
    def improved(self) -> int:
        return sum(1 for i in self.indicators if i.move.direction == "improved")

    @property
    def shown(self) -> int:
        return sum(1 for i in self.indicators if i.move.direction != "hidden")


def _wave_values(set_id: str, version: str, wave: Wave) -> dict[int, dict[str, tuple]]:
    """Each cluster's newest round inside the wave, its values and lights."""
    found = {}
    for cluster_round in latest_rounds(set_id, version, on=wave.last_day):
        if cluster_round.held_on < wave.first_day:
            continue
        found[cluster_round.cluster_id] = {
            indicator_id: (exact(value), light)
            for indicator_id, (value, light) in cluster_round.values.items()
            if value is not None
        }
    return found


def _chosen(found: list[Wave], options: dict[str, Any]) -> tuple[Wave, Wave]:
    by_key = {w.key: w for w in found}
    before = by_key.get(str(options.get("from_wave") or ""), found[-2])
    after = by_key.get(str(options.get("to_wave") or ""), found[-1])
    if after.first_day <= before.first_day:
        before, after = found[-2], found[-1]
    return before, after


def forum_over_time(context: ComparisonContext) -> ForumOverTime:
    indicator_set = context.indicator_set
    set_id, version = indicator_set.id, indicator_set.version
    min_group = context.min_group
    found = waves(round_days(set_id, version), max(min_group, 2))
    if len(found) < 2:
        return ForumOverTime(found, min_group=min_group)
    before, after = _chosen(found, context.options)
    # From the rounds alone (no viewer, no work): kept until a round or a cluster changes,
    # so an action's write does not read every cluster's rounds of both waves again.
    moved = kept_while_unchanged(
        context.tenant.id,
        "forum-moves",
        (set_id, version, before, after, min_group),
        lambda: moves(
            [(i.id, i.higher_is_better) for i in indicator_set.indicators],
            _wave_values(set_id, version, before),
            _wave_values(set_id, version, after),
            min_group,
        ),
    )
    keys = [(set_id, version, i.id) for i in indicator_set.indicators]
    between = Window(before.last_day, after.first_day)
    work = region_work(context.tenant, keys)
    by_indicator: dict[str, list] = {}
    for piece in work:
        if between.overlaps(*piece.ran()):
            by_indicator.setdefault(piece.key[2], []).append(piece)
    measurer = Measurer(  # reads the values of the indicators worked on only
        context.tenant,
        [(set_id, version, i) for i in by_indicator],
        view=values_view(context.user, context.tenant),
        today=date.today(),
        work=work,
    )
    groups = {g.id: pick_text(g.name, context.locale) for g in indicator_set.groups}
    rows = []
    for move, indicator in zip(moved, indicator_set.indicators, strict=True):
        pieces = sorted(by_indicator.get(indicator.id, []), key=lambda w: (w.kind, w.title, w.id))
        rows.append(
            MovedIndicator(
                move,
                pick_text(indicator.name, context.locale),
                groups.get(indicator.group, indicator.group),
                indicator.higher_is_better,
                indicator.minimum,
                indicator.maximum,
                [measurer.measure(w) for w in pieces[:MAX_WORK_SHOWN]],
                max(0, len(pieces) - MAX_WORK_SHOWN),
            )
        )
    return ForumOverTime(found, before, after, rows, min_group)
