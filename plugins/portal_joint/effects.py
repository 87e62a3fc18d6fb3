"""The effect of a joint action on its linked indicators, measured by the core's one method
(``toolkit.Measurer``, the same as for a cluster's own actions; the page says the same):

* *before*: each cluster's newest confirmed round up to the day before the action started
  (the day it was created when it has no start date);
* *after*: each cluster's first confirmed round after the due date, once the action is done
  or its due date has passed; before that the effect is "not over yet". A done action
  without a due date is measured from the day it was last changed;
* *participants*: the clusters taking part, including those that left on or after the due
  date; a cluster that left earlier counts in neither group (it neither did the action nor
  stayed out of it);
* *others*: every other cluster of the region with a round before and after, except those
  that worked on the same indicator in the same window by other actions (their own or other
  joint actions);
* privacy: the core's policy (``values_view``): a group's means are shown when it has the
  region's smallest group of clusters or the viewer may see each of its clusters; the
  others' only when both groups may be shown.

Queries: the region's work on the linked indicators (the core's plan actions, the joint
actions: a query or two each) and the values (one query per indicator set version); none
while the action is not over.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from flask_babel import get_locale

from portal.toolkit import (
    Effect,
    Measurer,
    Tenant,
    current_tenant,
    current_user,
    db,
    effect,
    find_indicator_set,
    pick_text,
    values_view,
    window_of,
)
from portal_joint import work

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
                ("participants", self.effect.worked),
                ("others", self.effect.others),
            )
            if group.clusters
        ]
        if not groups:
            return None
        indicator = self.indicator
        values = [Decimal(v) for _key, g in groups for v in (g.before, g.after)]
        if indicator is not None:  # the scale is a definition's float: its written value
            scale = Decimal(str(indicator.minimum)), Decimal(str(indicator.maximum))
            low, high = min(scale[0], *values), max(scale[1], *values)
        else:
            low, high = min(values), max(values)
        if high == low:
            low, high = low - 1, high + 1

        def y(value: Decimal) -> float:
            """A drawing coordinate (pixels, not a score: a float is fine here)."""
            share = (Decimal(value) - low) / (high - low)
            return round(CHART_BOTTOM - float(share) * (CHART_BOTTOM - CHART_TOP), 1)

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


def _name(link: Any, locale: str) -> str:
    indicator_set = find_indicator_set(link.indicator_set, link.set_version)
    indicator = indicator_set.indicator(link.indicator_id) if indicator_set is not None else None
    return pick_text(indicator.name, locale) if indicator is not None else link.indicator_id


def for_action(action: Any, today: date | None = None) -> list[EffectRow]:
    """``(linked indicator, indicator name, Effect)`` for each indicator linked to the action,
    in the current language, for the current viewer (the action's parts and indicators
    loaded). No query while the action is not over."""
    today = today or date.today()
    span = window_of(action, today)
    locale = str(get_locale() or "en")
    pieces = work.of_action(action)
    if not span.over or not pieces:
        return [
            EffectRow(
                link,
                _name(link, locale),
                effect(link.indicator_id, span, {}, {}, set(), min_group=0),
            )
            for link in action.indicators
        ]
    tenant = current_tenant() or db.session.get(Tenant, action.tenant_id)
    measurer = Measurer(
        tenant, [p.key for p in pieces], view=values_view(current_user, tenant), today=today
    )
    return [
        EffectRow(link, _name(link, locale), measurer.measure(piece).effect)
        for link, piece in zip(action.indicators, pieces, strict=True)
    ]
