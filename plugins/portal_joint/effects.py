"""The effect of a joint action on its linked indicators, read from real benchmarking rounds.

For each linked indicator the participants' values are compared with those of the clusters
that did not take part (the arithmetic is :func:`portal_joint.rollup.effect`; the page says
the same):

* *before*: each cluster's newest round up to the day before the action started (the day it
  was created when it has no start date);
* *after*: each cluster's first round after the due date, once the action is done or its due
  date has passed; before that the effect is "not over yet". A done action without a due date
  is measured from the day it was last changed;
* *participants*: the clusters taking part, including those that left on or after the due
  date; a cluster that left earlier counts in neither group (it neither did the action nor
  stayed out of it);
* *others*: every other cluster of the region with a round before and after.

Rounds are read with the toolkit's loaders: two queries per indicator set version, whatever the
number of indicators, clusters or rounds.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

from flask_babel import get_locale

from portal.toolkit import (
    Tenant,
    current_tenant,
    current_user,
    db,
    find_indicator_set,
    first_rounds_after,
    latest_rounds,
    pick_text,
    values_view,
)
from portal_joint.rollup import Effect, effect

# The small chart: before on the left, after on the right, the scale's top and bottom.
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 110, 290, 18, 128
LABEL_GAP = 14  # the least distance between two value labels on the same side


class EffectRow(NamedTuple):
    """One linked indicator: unpacks as ``(link, name, effect)``."""

    link: Any  # LinkedIndicator
    name: str
    effect: Effect

    @property
    def min_group(self) -> int:
        """Clusters with a round before and after needed in each group to judge: the
        region's smallest group (the core's privacy policy)."""
        return self.effect.min_group

    @property
    def indicator(self) -> Any:
        """The indicator's definition (scale, direction), or None when the set is gone."""
        found = find_indicator_set(self.link.indicator_set, self.link.set_version)
        return found.indicator(self.link.indicator_id) if found is not None else None

    @property
    def chart(self) -> dict[str, Any] | None:
        """Where the chart's lines go: the indicator's scale (or the values' range) mapped to
        the drawing, one line per group with a value before and after; None without data."""
        groups = [
            (key, group)
            for key, group in (
                ("participants", self.effect.participants),
                ("others", self.effect.others),
            )
            if group.clusters
        ]
        if not groups:
            return None
        indicator = self.indicator
        values = [v for _key, g in groups for v in (g.before, g.after)]
        if indicator is not None:
            low, high = min(indicator.minimum, *values), max(indicator.maximum, *values)
        else:
            low, high = min(values), max(values)
        if high == low:
            low, high = low - 1, high + 1

        def y(value: float) -> float:
            return round(
                CHART_BOTTOM - (value - low) / (high - low) * (CHART_BOTTOM - CHART_TOP), 1
            )

        lines = {
            key: {"before": g.before, "after": g.after, "y1": y(g.before), "y2": y(g.after)}
            for key, g in groups
        }
        for side in ("y1", "y2"):  # keep two labels on one side apart
            label = f"label_{side}"
            for line in lines.values():
                line[label] = line[side] + 4
            if len(lines) == 2:
                ours, theirs = lines["participants"], lines["others"]
                if abs(ours[side] - theirs[side]) < LABEL_GAP:
                    upper, lower = sorted((ours, theirs), key=lambda line: line[side])
                    middle = (upper[side] + lower[side]) / 2
                    upper[label] = middle - LABEL_GAP / 2 + 4
                    lower[label] = middle + LABEL_GAP / 2 + 4
        return {
            "low": low,
            "high": high,
            "y_low": CHART_BOTTOM,
            "y_high": CHART_TOP,
            "left": CHART_LEFT,
            "right": CHART_RIGHT,
            "lines": lines,
        }


def period(action: Any, today: date | None = None) -> tuple[date, date | None]:
    """``(before_day, after_day)`` of a joint action; ``after_day`` None: not over yet."""
    today = today or date.today()
    if action.start_date is not None:
        before_day = action.start_date - timedelta(days=1)
    else:
        created = getattr(action, "created_at", None)
        before_day = created.date() if created is not None else today
    status = str(action.status)
    due = action.due_date
    if due is not None and (status == "done" or due < today):
        after_day = due
    elif status == "done":
        updated = getattr(action, "updated_at", None)
        after_day = updated.date() if updated is not None else today
    else:
        return before_day, None
    # An action entered after the fact (due before it was created): measure after creation.
    return before_day, max(after_day, before_day)


def taking_part(action: Any, after_day: date | None) -> tuple[set[int], set[int]]:
    """``(participants, left_early)``: clusters taking part until ``after_day``, and those that
    left before it."""
    participants, left_early = set(), set()
    for part in action.parts:
        if part.left_on is None or (after_day is not None and part.left_on >= after_day):
            participants.add(part.cluster_id)
        else:
            left_early.add(part.cluster_id)
    return participants, left_early - participants


def _values(rounds, indicator_id: str) -> dict[int, float]:
    found = {}
    for cluster_round in rounds:
        value = cluster_round.values.get(indicator_id)
        if value is not None and value[0] is not None:
            found[cluster_round.cluster_id] = float(value[0])
    return found


def _name(link: Any, locale: str) -> str:
    indicator_set = find_indicator_set(link.indicator_set, link.set_version)
    indicator = indicator_set.indicator(link.indicator_id) if indicator_set is not None else None
    return pick_text(indicator.name, locale) if indicator is not None else link.indicator_id


def for_action(action: Any, today: date | None = None) -> list[EffectRow]:
    """``(linked indicator, indicator name, Effect)`` for each indicator linked to the action,
    in the current language. At most two queries per indicator set version (none while the
    action is not over)."""
    before_day, after_day = period(action, today)
    min_group = 0  # not over yet: nothing to show, nothing to read
    if after_day is not None:
        tenant = current_tenant() or db.session.get(Tenant, action.tenant_id)
        min_group = values_view(current_user, tenant).min_group
    participants, left_early = taking_part(action, after_day)
    locale = str(get_locale() or "en")
    loaded: dict[tuple[str, str], tuple[list, list]] = {}
    rows = []
    for link in action.indicators:
        name = _name(link, locale)
        if after_day is None:
            rows.append(
                EffectRow(
                    link,
                    name,
                    effect(link.indicator_id, before_day, None, {}, {}, set(), min_group),
                )
            )
            continue
        key = (link.indicator_set, link.set_version)
        if key not in loaded:
            loaded[key] = (
                latest_rounds(*key, on=before_day),
                first_rounds_after(*key, after=after_day),
            )
        before_rounds, after_rounds = loaded[key]
        before = _values(before_rounds, link.indicator_id)
        after = _values(after_rounds, link.indicator_id)
        for cluster_id in left_early:
            before.pop(cluster_id, None)
            after.pop(cluster_id, None)
        rows.append(
            EffectRow(
                link,
                name,
                effect(
                    link.indicator_id, before_day, after_day, before, after, participants, min_group
                ),
            )
        )
    return rows
