"""The label calendar: when a cluster's labels lapse, when each next level can be reached, the
latest day for a renewal, the plan's projected finish, and the region's label risks.

Pure: no database, no Flask. It works on a cluster's ``ClusterEvidence`` and a scheme's
levels (``portal.labels.scheme``), the assessments the cluster has planned
(``PlannedData``) and its plan's projected finish; ``portal.labels.calendar_data`` loads them.

The dates, all on the calendar rules of ``portal.labels.scheme``:

- **Lapses on**: a held label's expiry (``LabelData.expires_on``), its last valid day.
- **Latest renewal date** (``LevelDates.renew_by``): the last day on which the assessment a
  renewal needs (a benchmarking, an audit, an expert review) can happen for the renewed label
  to be awarded before the held one lapses. A rule sees only what happened up to the day it is
  checked, so the award comes on the assessment's day at the earliest; for the renewal to
  follow the held label without a gap, that day must be on or before its expiry. So the latest
  renewal date is the held label's expiry (awarded 15 Mar 2025 for 24 months: valid through 14
  Mar 2027, renew by 14 Mar 2027). Any earlier lead time (booking an expert, writing the
  documentation) is the cluster's own planning, which the calendar shows beside it.
- **Earliest date** of a level (``LevelDates.earliest``): today when every rule is met today;
  else what the level declares (``Level.earliest``: e.g. ESCA silver 12 months after the
  oldest valid benchmarking, while that round is still valid), never before today; None when
  the level declares nothing (the page says the scheme does not say).
- **Renewal planned**: an assessment planned for the scheme, aimed at the held level or higher
  (or at no level), on a day from today through the latest renewal date. One planned after
  that date does not count: it is too late (``LevelDates.too_late``).
- **Projected finish** of a plan (``projected_finish``): its end date, or later when open
  actions are due later; with open actions left it cannot finish before today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from portal.labels.scheme import (
    ClusterEvidence,
    Eligibility,
    LabelData,
    LabelScheme,
    Level,
    RuleResult,
    Verdict,
)

KINDS = ("benchmarking", "audit", "expert_review")
RISKS = ("no_renewal", "can_apply", "plan_late")


@dataclass(frozen=True)
class PlannedData:
    """An assessment a cluster planned: ``level`` "" when it aims at no particular level."""

    scheme: str
    kind: str
    planned_on: date
    level: str = ""
    id: int | None = None


def projected_finish(
    end_date: date, latest_open_due: date | None, open_actions: int, today: date
) -> date:
    """A plan's end date, or the latest due date of its open actions when later; a plan with
    open actions left (overdue, or past its end) cannot finish before ``today``."""
    finish = max(end_date, latest_open_due) if latest_open_due else end_date
    return max(finish, today) if open_actions else finish


def _rank(scheme: LabelScheme, level_id: str) -> int:
    ids = [lvl.id for lvl in scheme.levels]
    return ids.index(level_id) if level_id in ids else -1


def aims_at(scheme: LabelScheme, planned: PlannedData, level_id: str) -> bool:
    """Whether a planned assessment serves a label of ``level_id``: same scheme, aimed at that
    level or higher, or at none."""
    return planned.scheme == scheme.id and (
        not planned.level or _rank(scheme, planned.level) >= _rank(scheme, level_id)
    )


def counts_as_renewal(
    scheme: LabelScheme, planned: PlannedData, label: LabelData, today: date
) -> bool:
    """A planned assessment renews ``label`` when it aims at its level (or higher) and falls
    from today through the label's latest renewal date (its expiry)."""
    return aims_at(scheme, planned, label.level) and today <= planned.planned_on <= label.expires_on


@dataclass(frozen=True)
class LevelDates:
    level: Level
    eligible: bool  # every rule met today
    unmet: tuple[RuleResult, ...]  # what is still missing
    earliest: date | None  # the earliest day it can be reached (None: the scheme does not say)
    scheme_says: bool
    held: LabelData | None = None  # held today (the one lasting longest)
    renewal: PlannedData | None = None  # the planned assessment that renews it in time
    too_late: tuple[PlannedData, ...] = ()  # planned for it after the latest renewal date
    covered: bool = False  # a higher (or the same) level held lasts longer: no risk

    @property
    def renew_by(self) -> date | None:
        """The latest day for the renewal's assessment (see the module): the expiry."""
        return self.held.expires_on if self.held else None


@dataclass(frozen=True)
class SchemeCalendar:
    scheme: LabelScheme
    today: date
    levels: tuple[LevelDates, ...]  # lowest first
    next_level: str | None
    planned: tuple[PlannedData, ...]  # this scheme's, by day
    plan_finish: date | None
    # False: the rules were not checked (``scheme_calendar(evaluate=False)``); the held
    # labels' dates are exact, while no level is eligible and none says its earliest day.
    evaluated: bool = True

    @property
    def held(self) -> list[LevelDates]:
        return [d for d in self.levels if d.held is not None]

    @property
    def ahead(self) -> list[LevelDates]:
        """The levels above the highest one held (every level when none is held)."""
        top = max((i for i, d in enumerate(self.levels) if d.held is not None), default=-1)
        return list(self.levels[top + 1 :])

    def plan_late(self, dates: LevelDates) -> bool:
        """The plan finishes after the held label's latest renewal date."""
        return (
            self.plan_finish is not None
            and dates.renew_by is not None
            and self.plan_finish > dates.renew_by
        )


def earliest_day(level: Level, evidence: ClusterEvidence, today: date, eligible: bool):
    """(earliest day, whether the scheme says): today when eligible; else the level's own
    answer, never before today."""
    if eligible:
        return today, True
    if level.earliest is None:
        return None, False
    day = level.earliest(evidence, today)
    return (None if day is None else max(day, today)), True


@dataclass(frozen=True)
class Evaluation:
    """What the rules say of one cluster in one scheme on a day: each level's eligibility
    and earliest day, lowest level first. The costly part of a calendar, and a function of
    the cluster's evidence (rounds, labels, documented evidence) and the day alone."""

    eligibilities: tuple[Eligibility, ...]
    earliest: tuple[tuple[date | None, bool], ...]


def evaluate_scheme(scheme: LabelScheme, evidence: ClusterEvidence, today: date) -> Evaluation:
    eligibilities = tuple(scheme.evaluate(evidence, today))
    return Evaluation(
        eligibilities,
        tuple(earliest_day(e.level, evidence, today, e.eligible) for e in eligibilities),
    )


def scheme_calendar(
    scheme: LabelScheme,
    evidence: ClusterEvidence,
    today: date,
    planned: Iterable[PlannedData] = (),
    plan_finish: date | None = None,
    evaluate: bool = True,
    evaluation: Evaluation | None = None,
) -> SchemeCalendar:
    """The calendar of one scheme for one cluster on ``today``. ``evaluate=False`` skips the
    rules (the costly part): enough for the risks of held labels (lapsing, plan too late),
    which read only the labels, the planned assessments and the plan's finish. An
    ``evaluation`` of the same evidence and day, kept from before, stands for the rules; the
    rest of the calendar reads only the labels of ``evidence``."""
    mine = tuple(sorted((p for p in planned if p.scheme == scheme.id), key=lambda p: p.planned_on))
    held: dict[str, LabelData] = {}
    for label in sorted(evidence.held(scheme.id, today), key=lambda lbl: lbl.expires_on):
        held[label.level] = label
    levels = []
    if evaluate and evaluation is None:
        evaluation = evaluate_scheme(scheme, evidence, today)
    evaluated = (
        evaluation.eligibilities
        if evaluate
        else [Eligibility(level, ()) for level in scheme.levels]
    )
    for n, eligibility in enumerate(evaluated):
        level = eligibility.level
        label = held.get(level.id)
        eligible = evaluate and eligibility.eligible
        earliest, says = evaluation.earliest[n] if evaluate else (None, False)
        renewal, too_late, covered = None, (), False
        if label is not None:
            renewal = next(
                (p for p in mine if counts_as_renewal(scheme, p, label, today)),
                None,
            )
            too_late = tuple(
                p for p in mine if aims_at(scheme, p, level.id) and p.planned_on > label.expires_on
            )
            covered = any(
                other.expires_on > label.expires_on
                and _rank(scheme, other.level) >= _rank(scheme, level.id)
                for other in held.values()
                if other is not label
            )
        levels.append(
            LevelDates(
                level,
                eligible,
                tuple(r for r in eligibility.results if r.verdict != Verdict.MET),
                earliest,
                says,
                label,
                renewal,
                too_late,
                covered,
            )
        )
    nxt = scheme.next_level(evidence, today)
    return SchemeCalendar(
        scheme, today, tuple(levels), nxt.id if nxt else None, mine, plan_finish, evaluate
    )


@dataclass(frozen=True)
class Risk:
    """One line of the region's label risk list."""

    kind: str  # one of RISKS
    cluster_id: int
    scheme: LabelScheme
    dates: LevelDates
    day: date  # what the line is about: the latest renewal date, or today for "can apply"
    plan_finish: date | None = None


def risks(cluster_id: int, calendar: SchemeCalendar, horizon: date) -> list[Risk]:
    """A cluster's label risks in one scheme: held labels lapsing by ``horizon`` with no
    renewal planned (a longer-lasting label of the same or a higher level covers one), levels
    above those held that every rule allows now, and held labels whose latest renewal date
    comes before the plan's projected finish."""
    found = []
    for dates in calendar.held:
        if dates.covered:
            continue
        if dates.renewal is None and dates.renew_by <= horizon:
            found.append(Risk("no_renewal", cluster_id, calendar.scheme, dates, dates.renew_by))
        if calendar.plan_late(dates):
            found.append(
                Risk(
                    "plan_late",
                    cluster_id,
                    calendar.scheme,
                    dates,
                    dates.renew_by,
                    calendar.plan_finish,
                )
            )
    for dates in calendar.ahead if calendar.evaluated else ():
        if dates.eligible:
            found.append(Risk("can_apply", cluster_id, calendar.scheme, dates, calendar.today))
    return found
