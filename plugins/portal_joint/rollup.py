"""Progress and the value of working together: pure functions of
loaded joint actions (no database, no Flask), so every edge case is testable.

How progress rolls up (the pages say the same):
* a participating cluster's progress is what it reports (100 once its part is done);
* a joint action's progress is the average over the clusters taking part now (clusters that
  left do not count); 100 when the action is done; 0 while nobody takes part; a cancelled
  action has none;
* a programme's joint progress is the average over its joint actions that are not cancelled.

The value of working together, per joint action and per programme:
* *together*: what the participants spent (money, hours; clusters that left included), or the
  shared budget while nothing is spent yet;
* *alone*: what clusters really spent on their own actions on the joint action's indicators
  (the core's measured baseline, ``toolkit.EffortBaselines``: per cluster per action, from
  this region, or with the regions that publish theirs), one such action per participant;
  only where no baseline exists, the sum of the estimates of the participants that gave one
  (a zero counts, a missing one does not). Compared with what those same participants spent,
  counted once their part (or the whole action) is done, as what they spent so far says
  nothing yet; while nothing is spent, with their equal share of the budget (a plan, not a
  result);
* *effort saved* = alone - together for those participants; none without a baseline or an
  estimate. ``source`` says which "alone" was used: "region", "published", "estimates" or
  "none" ("mixed" for a programme whose actions used several).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)


@dataclass(frozen=True)
class Progress:
    value: int | None  # 0..100, None for a cancelled action
    basis: str  # "participants", "done", "nobody", "cancelled", "actions", "no_actions"
    counted: int = 0  # participants (or actions) averaged


def part_progress(part: Any) -> int:
    return 100 if str(part.status) == "done" else max(0, min(100, int(part.progress or 0)))


def action_progress(action: Any) -> Progress:
    status = str(action.status)
    if status == "cancelled":
        return Progress(None, "cancelled")
    active = [p for p in action.parts if p.left_on is None]
    if status == "done":
        return Progress(100, "done", len(active))
    if not active:
        return Progress(0, "nobody")
    return Progress(
        round(sum(part_progress(p) for p in active) / len(active)), "participants", len(active)
    )


def programme_progress(actions: Iterable[Any]) -> Progress:
    values = [p.value for p in map(action_progress, actions) if p.value is not None]
    if not values:
        return Progress(None, "no_actions")
    return Progress(round(sum(values) / len(values)), "actions", len(values))


@dataclass(frozen=True)
class Effort:
    """Money or hours of one joint action (or a programme: the sum of its actions)."""

    together: Decimal  # spent by all participants, or the budget while nothing is spent
    basis: str  # "spent", "budget" or "none"
    estimated: int  # participants with an estimate
    participants: int
    alone: Decimal | None  # their estimates' sum; None when nobody estimated
    together_of_estimators: Decimal  # what the estimators spent (or their budget share)
    pending: int = 0  # estimators not counted yet: their part is not done
    source: str = "none"  # what "alone" is: "region", "published", "estimates", "none", "mixed"
    measured: Any = None  # the baseline's Tally (actions, clusters) when measured
    sources: tuple[str, ...] = ()  # a programme: each counted action's source

    @property
    def saved(self) -> Decimal | None:
        return None if self.alone is None else self.alone - self.together_of_estimators

    @property
    def missing(self) -> int:
        """Participants without an estimate."""
        return self.participants - self.estimated - self.pending

    def __add__(self, other: Effort) -> Effort:
        alone = (
            None
            if self.alone is None and other.alone is None
            else (self.alone or ZERO) + (other.alone or ZERO)
        )
        bases = {self.basis, other.basis} - {"none"}
        sources = self.sources + other.sources
        used = set(sources) - {"none"}
        return Effort(
            self.together + other.together,
            bases.pop() if len(bases) == 1 else ("mixed" if bases else "none"),
            self.estimated + other.estimated,
            self.participants + other.participants,
            alone,
            self.together_of_estimators + other.together_of_estimators,
            self.pending + other.pending,
            used.pop() if len(used) == 1 else ("mixed" if used else "none"),
            None,
            sources,
        )

    def count(self, source: str) -> int:
        """How many of a programme's actions used this source."""
        return self.sources.count(source)


NO_EFFORT = Effort(ZERO, "none", 0, 0, None, ZERO, 0)


def effort(action: Any, unit: str, baseline: Any = None) -> Effort:
    """``unit`` is "money" or "hours"; ``baseline``: the measured baseline of that unit for
    the action's indicators (``toolkit.EffortBaseline``), or None."""
    parts = list(action.parts)
    spent = {p.id: Decimal(getattr(p, f"{unit}_spent") or 0) for p in parts}
    per_cluster = baseline.per_cluster if baseline is not None else None
    if per_cluster is not None:
        estimates = {p.id: Decimal(per_cluster) for p in parts}
        source, measured = baseline.basis, baseline.tally
    else:
        estimates = {
            p.id: Decimal(getattr(p, f"solo_{unit}"))
            for p in parts
            if getattr(p, f"solo_{unit}") is not None
        }
        source, measured = ("estimates" if estimates else "none"), None
    budget = getattr(action, f"budget_{unit}")
    pending = 0
    if any(spent.values()):
        together, basis = sum(spent.values(), ZERO), "spent"
        finished = str(action.status) == "done"
        counted = {
            i: v
            for i, v in estimates.items()
            if finished or str(next(p for p in parts if p.id == i).status) == "done"
        }
        pending = len(estimates) - len(counted)
        estimates = counted
        of_estimators = sum((spent[i] for i in estimates), ZERO)
    elif budget is not None and parts:
        together, basis = Decimal(budget), "budget"
        of_estimators = Decimal(budget) * len(estimates) / len(parts)
    else:
        together, basis, of_estimators = ZERO, "none", ZERO
    alone = sum(estimates.values(), ZERO) if estimates else None
    if alone is None:
        source = "none"
    return Effort(
        together,
        basis,
        len(estimates),
        len(parts),
        alone,
        of_estimators,
        pending,
        source,
        measured,
        (source,),
    )


def programme_effort(
    actions: Iterable[Any], unit: str, baselines: dict[int, dict[str, Any]] | None = None
) -> Effort:
    """The sum over the actions that are not cancelled; ``baselines``: action id -> unit ->
    its measured baseline."""
    total = NO_EFFORT
    for action in actions:
        if str(action.status) != "cancelled":
            found = baselines.get(action.id, {}).get(unit) if baselines else None
            total = total + effort(action, unit, found)
    return total
