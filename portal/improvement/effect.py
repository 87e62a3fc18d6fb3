"""The effect of work on an indicator: pure functions (no database, no Flask), one method for
a cluster's own actions, its plans and the joint actions of plugins.

How an effect is measured (the pages say the same):

* *window*: "before" is each cluster's newest confirmed round up to the day before the work
  started (the day it was entered when it has no start date); "after" is each cluster's
  first confirmed round after its due date, once the work is done or its due date has
  passed. Before that the effect is "not over yet". Done work without a due date is
  measured from the day it was last changed; work entered after the fact (due before it was
  entered) is measured from the day it was entered.
* *worked on it*: the clusters the work is theirs (one for a cluster's own action, the
  participants of a joint action).
* *others*: every other cluster of the region with a round before and after, except those
  that worked on the same indicator in the same window by other actions (they neither did
  this work nor stayed out of such work) and those that left the work early.
* Each group's mean before, after and mean change (of each cluster's own change) are exact
  decimals.

Privacy (the core's policy, ``portal.privacy.policy``): a group's means are shown when it
has at least the region's smallest group of clusters, or when the viewer may see every one
of its clusters' values. The others' means are shown only when both groups may be shown
(one group's mean with the forum's would give away the other's). Otherwise only the
groups' sizes are told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

NOT_OVER, NO_DATA, TOO_FEW, OK = "not_over", "no_data", "too_few", "ok"


@dataclass(frozen=True)
class Window:
    """Rounds up to ``before_day`` count as before; the first after ``after_day`` as after
    (``after_day`` None: the work is not over yet)."""

    before_day: date
    after_day: date | None

    @property
    def over(self) -> bool:
        return self.after_day is not None

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """Whether work from ``start`` to ``end`` (open ends: unknown) ran inside this window."""
        last = self.after_day if self.after_day is not None else date.max
        return (start is None or start <= last) and (end is None or end > self.before_day)


def ends_when_changed(status: str, due_date: date | None) -> bool:
    """Whether a piece of work's window ends on the day it last changed: done without a due
    day. Only then does that day (``changed_on``) count, in ``window`` as in ``ran``."""
    return status == "done" and due_date is None


def window(
    start_date: date | None,
    due_date: date | None,
    status: str,
    entered_on: date | None,
    changed_on: date | None,
    today: date,
) -> Window:
    """The window of a piece of work: see the module's docstring."""
    before_day = start_date - timedelta(days=1) if start_date is not None else entered_on or today
    if due_date is not None and (status == "done" or due_date < today):
        after_day = due_date
    elif ends_when_changed(status, due_date):
        after_day = changed_on or today
    else:
        return Window(before_day, None)
    return Window(before_day, max(after_day, before_day))


def window_of(action: Any, today: date) -> Window:
    """The window of an object with ``start_date``, ``due_date``, ``status`` and the
    timestamps ``created_at`` / ``updated_at`` (an action of a plan, a joint action)."""
    created = getattr(action, "created_at", None)
    updated = getattr(action, "updated_at", None)
    return window(
        action.start_date,
        action.due_date,
        str(getattr(action.status, "value", action.status)),
        created.date() if created is not None else None,
        updated.date() if updated is not None else None,
        today,
    )


@dataclass(frozen=True)
class Group:
    clusters: int  # with a value before and after
    before: Decimal | None = None  # mean; None when not shown
    after: Decimal | None = None
    change: Decimal | None = None  # mean of each cluster's change

    @property
    def shown(self) -> bool:
        return self.before is not None


@dataclass(frozen=True)
class Effect:
    indicator_id: str
    window: Window
    worked: Group  # the clusters that did the work
    others: Group
    reason: str  # OK, NOT_OVER, NO_DATA (no cluster that did it has both rounds), TOO_FEW
    min_group: int = 0

    @property
    def enough(self) -> bool:
        """Whether the comparison may be shown: both groups' means."""
        return self.reason == OK

    @property
    def difference(self) -> Decimal | None:
        """How much more the workers' value changed than the others' (None when not shown)."""
        if self.worked.change is None or self.others.change is None:
            return None
        return self.worked.change - self.others.change


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def _group(
    before: Mapping[int, Decimal], after: Mapping[int, Decimal], clusters: Iterable[int]
) -> tuple[list[int], Group]:
    both = sorted(c for c in clusters if c in before and c in after)
    if not both:
        return both, Group(0)
    return both, Group(
        len(both),
        _mean([before[c] for c in both]),
        _mean([after[c] for c in both]),
        _mean([after[c] - before[c] for c in both]),
    )


def effect(
    indicator_id: str,
    span: Window,
    before: Mapping[int, Decimal],
    after: Mapping[int, Decimal],
    worked: set[int],
    *,
    min_group: int,
    left_out: set[int] = frozenset(),  # type: ignore[assignment]
    sees: Callable[[int], bool] | None = None,
) -> Effect:
    """The effect of work on one indicator.

    ``before`` / ``after``: cluster id -> exact value in its newest round up to
    ``span.before_day`` / its first round after ``span.after_day``. ``worked``: the clusters
    that did the work; ``left_out``: clusters in neither group (others that worked on the
    indicator in the window, participants that left early). ``min_group``: the region's
    smallest group; ``sees``: whether the viewer may see a cluster's own values (None:
    nobody's)."""
    if not span.over:
        return Effect(indicator_id, span, Group(0), Group(0), NOT_OVER, min_group)
    everyone = (set(before) | set(after)) - left_out
    ours_ids, ours = _group(before, after, worked - left_out)
    theirs_ids, theirs = _group(before, after, everyone - worked)

    def may_show(ids: list[int]) -> bool:
        if not ids:
            return False
        return len(ids) >= min_group or (sees is not None and all(sees(c) for c in ids))

    if not ours.clusters:
        return Effect(indicator_id, span, Group(0), Group(theirs.clusters), NO_DATA, min_group)
    if not may_show(ours_ids):
        return Effect(
            indicator_id, span, Group(ours.clusters), Group(theirs.clusters), TOO_FEW, min_group
        )
    if not may_show(theirs_ids):
        return Effect(indicator_id, span, ours, Group(theirs.clusters), TOO_FEW, min_group)
    return Effect(indicator_id, span, ours, theirs, OK, min_group)


@dataclass(frozen=True)
class Movement:
    """How an indicator moved for the clusters that worked on it (a plan's or a programme's
    summary): the effects of its pieces of work, counted."""

    indicator_key: tuple[str, str, str]
    actions: int  # pieces of work aimed at it
    done: int  # of them done
    measured: int  # effects over, with data
    improved: int  # measured effects where the workers' value went up more than the others'
    worsened: int


def movements(
    effects: Iterable[tuple[tuple[str, str, str], str, Effect | None, bool]],
) -> list[Movement]:
    """Counts per indicator from ``(indicator key, status of the work, its effect or None,
    higher is better)``, in the order the indicators first come. A measured effect improved
    when the workers' value moved the good way more than the others' (or, without a
    comparison shown, moved the good way)."""
    order: list[tuple[str, str, str]] = []
    counts: dict[tuple[str, str, str], list[int]] = {}
    for key, status, found, higher_is_better in effects:
        if key not in counts:
            order.append(key)
            counts[key] = [0, 0, 0, 0, 0]
        row = counts[key]
        row[0] += 1
        row[1] += status == "done"
        moved = direction(found, higher_is_better)
        if moved is not None:
            row[2] += 1
            row[3] += moved == IMPROVED
            row[4] += moved == DECLINED
    return [Movement(key, *counts[key]) for key in order]


IMPROVED, DECLINED, UNCHANGED = "improved", "declined", "unchanged"


def direction(found: Effect | None, higher_is_better: bool) -> str | None:
    """How the workers' value moved, the good way or not: IMPROVED, DECLINED or UNCHANGED
    (against the others' change when that comparison is shown, else on its own); None when
    the effect is not measured or not shown to the viewer."""
    if found is None or found.worked.change is None:
        return None
    change = found.difference if found.difference is not None else found.worked.change
    change = change if higher_is_better else -change
    return IMPROVED if change > 0 else DECLINED if change < 0 else UNCHANGED
