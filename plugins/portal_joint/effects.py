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
from typing import Any, NamedTuple

from flask_babel import get_locale

from portal.toolkit import (
    Effect,
    Measurer,
    Tenant,
    before_after_chart,
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
        """Where the chart's lines go (the core's drawing, ``toolkit.before_after_chart``): the
        indicator's scale (or the values' range) mapped to the drawing, one line per group
        with a value before and after; None without data."""
        indicator = self.indicator
        groups = (("participants", self.effect.worked), ("others", self.effect.others))
        return before_after_chart(
            [(key, g.before, g.after) for key, g in groups if g.clusters],
            (indicator.minimum, indicator.maximum) if indicator is not None else None,
        )


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
