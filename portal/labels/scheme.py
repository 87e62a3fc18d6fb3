"""Label schemes: levels in order, validity, and eligibility rules.

A rule is a pure function of a cluster's evidence (its rounds, labels and recorded
evidence) and a date; it answers met / not met / needs evidence with a reason in the
user's language. Plugins build schemes from these types (through ``portal.toolkit``).

Calendar rules, the same for every scheme:
- "N months after" a date is the same day N months later; a day the month does not have
  becomes its last day (31 Jan + 1 month = 28/29 Feb; 29 Feb 2024 + 12 months = 28 Feb 2025).
- "at least N months apart": the later date is on or after the earlier date + N months.
- A label "valid N months from a date" expires on the day before date + N months
  (awarded 15 Mar 2025 for 24 months: valid through 14 Mar 2027).
- Every fact has the date it happened (a round's ``held_on``, a label's ``awarded_on``, a
  piece of evidence's ``recorded_on``, which is the day it happened, not the day it was
  typed in). A rule checked on a day sees only what happened on or before that day.
- A fact is *valid* on a day inside its validity window (``Validity``): a label from its
  award to its expiry (``ClusterEvidence.held``); a benchmarking round from its day (or the
  first of its month) for the months its level is valid (``ClusterEvidence.valid_rounds``).
  A bronze benchmarking of 10 Apr 2014, valid 24 months from its month, is valid through
  31 Mar 2016: on 1 May 2016 it no longer counts.

Scores are exact: values are ``decimal.Decimal`` (``exact`` turns a stored float into the
decimal that was typed, 3.1 -> Decimal("3.1")), and thresholds are compared without
rounding. A share is shown with one decimal, cut toward the threshold's side
(``share_shown``): 79.95 % shows as 79.9 %, never as a met 80.0 %.
"""

from __future__ import annotations

import calendar
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_apart(earlier: date, later: date, months: int) -> bool:
    """Whether ``later`` is at least ``months`` calendar months after ``earlier``."""
    return later >= add_months(earlier, months)


def months_between(earlier: date, later: date) -> int:
    """The whole calendar months from ``earlier`` to ``later``: the largest N with
    ``months_apart(earlier, later, N)`` (0 when ``later`` is less than a month after, or
    before, ``earlier``). 15 Mar 2024 to 14 Mar 2025 is 11 months; to 15 Mar 2025, 12."""
    if later <= earlier:
        return 0
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months if months_apart(earlier, later, months) else months - 1


def valid_until(start: date, months: int) -> date:
    """The last day of a validity of ``months`` months starting on ``start``."""
    return add_months(start, months) - timedelta(days=1)


@dataclass(frozen=True)
class Validity:
    """How long a fact stays valid: ``months`` calendar months from its day, or from the
    first day of its month (``from_month``). Valid from ``start(day)`` through
    ``until(day)``; a fact counts on a day only once it has happened."""

    months: int
    from_month: bool = False

    def start(self, day: date) -> date:
        return day.replace(day=1) if self.from_month else day

    def until(self, day: date) -> date:
        return valid_until(self.start(day), self.months)

    def covers(self, day: date, on: date) -> bool:
        """Whether a fact of ``day`` is valid on ``on``."""
        return day <= on <= self.until(day)


def _validity(validity: Validity | int) -> Validity:
    return validity if isinstance(validity, Validity) else Validity(validity)


# --- exact numbers --------------------------------------------------------------------------


def exact(value: Any) -> Decimal:
    """A value as the exact decimal it stands for: a float becomes the shortest decimal that
    reads back as it (3.1 -> Decimal("3.1"), never 3.100000000000000088...; a whole number
    without a fraction: 3.0 -> Decimal("3"), so it still prints as 3); ints, strings and
    decimals are taken as they are."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    return Decimal(value if isinstance(value, int) else str(value))


def share_shown(part: Any, whole: Any, *, at_least: bool = True) -> Decimal:
    """``part`` of ``whole`` in per cent with one decimal, cut toward the threshold's side so
    that the shown value never crosses a threshold of one decimal the exact share does not
    cross: for an "at least" threshold it is cut down (79.95 -> 79.9, 80.05 -> 80.0), for an
    "at most" one (``at_least=False``) it is rounded up. 0 when ``whole`` is 0."""
    whole = exact(whole)
    if not whole:
        return Decimal("0.0")
    tenths = Fraction(exact(part)) * 1000 / Fraction(whole)  # exact, however long
    cut = math.floor(tenths) if at_least else math.ceil(tenths)
    return Decimal(cut).scaleb(-1)


def format_share(part: Any, whole: Any, *, at_least: bool = True) -> str:
    """``share_shown`` written in the user's language (79,9 in Norwegian), without the % sign.
    Needs an app (or request) context for the locale."""
    from flask_babel import format_decimal

    return format_decimal(share_shown(part, whole, at_least=at_least), format="#,##0.0")


class Verdict(enum.StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NEEDS_EVIDENCE = "needs_evidence"


@dataclass(frozen=True)
class RoundData:
    held_on: date
    indicator_set: str
    set_version: str
    # indicator id -> (value, light); values are loaded as exact ``Decimal``s
    values: dict[str, tuple[Decimal | float, str]]
    audit: bool = False
    # "benchmarking" or "audit": the portal hands rules confirmed ones only (a self-assessment
    # or a draft is never evidence)
    kind: str = "benchmarking"

    def value(self, indicator_id: str) -> Decimal | None:
        """The exact value of an indicator in this round (None when it has none)."""
        found = self.values.get(indicator_id)
        return None if found is None else exact(found[0])


@dataclass(frozen=True)
class LabelData:
    scheme: str
    level: str
    awarded_on: date
    expires_on: date

    def held_on(self, on: date) -> bool:
        """Held on ``on``: from the day it was awarded through its expiry."""
        return self.awarded_on <= on <= self.expires_on


@dataclass(frozen=True)
class EvidenceData:
    kind: str  # e.g. "improvement", "expert_review"
    recorded_on: date  # the day it happened (the day it was typed in may be later)
    indicator_id: str = ""
    text: str = ""
    scheme: str = ""  # the scheme it was recorded for


@dataclass(frozen=True)
class ClusterEvidence:
    """Everything a rule may look at, loaded once per cluster."""

    rounds: tuple[RoundData, ...] = ()
    labels: tuple[LabelData, ...] = ()
    evidence: tuple[EvidenceData, ...] = ()

    def evidence_for(
        self, scheme: str, kind: str, on: date, since: date | None = None
    ) -> list[EvidenceData]:
        """Evidence of one kind recorded for a scheme that happened up to ``on`` (and on or
        after ``since``, when given), oldest first."""
        return sorted(
            (
                e
                for e in self.evidence
                if e.scheme == scheme
                and e.kind == kind
                and e.recorded_on <= on
                and (since is None or e.recorded_on >= since)
            ),
            key=lambda e: e.recorded_on,
        )

    def held(self, scheme: str, on: date) -> list[LabelData]:
        """The scheme's labels valid on ``on`` (awarded on or before it, not yet expired)."""
        return [lbl for lbl in self.labels if lbl.scheme == scheme and lbl.held_on(on)]

    def rounds_of(self, indicator_set: str | None, on: date) -> list[RoundData]:
        """The rounds of an indicator set (of any set for None) held up to ``on``, oldest
        first."""
        return sorted(
            (
                r
                for r in self.rounds
                if (indicator_set is None or r.indicator_set == indicator_set) and r.held_on <= on
            ),
            key=lambda r: r.held_on,
        )

    def valid_rounds(
        self, indicator_set: str | None, on: date, validity: Validity | int
    ) -> list[RoundData]:
        """The rounds of ``rounds_of`` still valid on ``on`` (``validity``: a ``Validity``,
        or a number of months from the round's day), oldest first."""
        window = _validity(validity)
        return [r for r in self.rounds_of(indicator_set, on) if window.covers(r.held_on, on)]


@dataclass(frozen=True)
class RuleResult:
    rule: str
    title: str
    verdict: Verdict
    reason: str
    indicators: tuple[str, ...] = ()  # indicators the rule proposes (e.g. improved ones)
    # The days of the rounds the rule compared (e.g. the two benchmarkings of an
    # improvement): "document an improvement" shows the indicators' values in them.
    compared: tuple[date, ...] = ()


Rule = Callable[[ClusterEvidence, date], RuleResult]
# The earliest day on or after ``on`` on which a level's timing can be met from the
# evidence so far, if the assessments it still needs happen that day (None: not from this
# evidence). A level that declares none leaves the label calendar saying the scheme does not
# say (portal.labels.calendar).
Earliest = Callable[[ClusterEvidence, date], date | None]


@dataclass(frozen=True)
class Level:
    id: str
    name: Any  # a lazy translated string
    rules: tuple[Rule, ...]
    validity_months: int
    # Where the validity starts: "award" (the decision date) or "round_month" (the first
    # day of the month of the newest round up to the award).
    valid_from: str = "award"
    # The badge's colour: one of LEVEL_TONES ("" = neutral).
    tone: str = ""
    # When the level can be reached at the earliest (see ``Earliest``); optional.
    earliest: Earliest | None = None

    @property
    def validity(self) -> Validity:
        """The level's validity window, counted from the day its validity starts."""
        return Validity(self.validity_months, from_month=self.valid_from == "round_month")

    def validity_start(self, evidence: ClusterEvidence, on: date) -> date:
        """The day a label awarded on ``on`` starts to count from."""
        if self.valid_from == "round_month":
            newest = max((r.held_on for r in evidence.rounds if r.held_on <= on), default=on)
            return self.validity.start(newest)
        return on

    def expiry(self, evidence: ClusterEvidence, on: date) -> date:
        """The last valid day of a label of this level awarded on ``on``."""
        return valid_until(self.validity_start(evidence, on), self.validity_months)


LEVEL_TONES = ("bronze", "silver", "gold", "blue", "green", "purple")


@dataclass(frozen=True)
class Eligibility:
    level: Level
    results: tuple[RuleResult, ...]

    @property
    def eligible(self) -> bool:
        return all(r.verdict == Verdict.MET for r in self.results)


@dataclass(frozen=True)
class LabelScheme:
    id: str
    version: str
    title: Any
    levels: tuple[Level, ...]  # lowest first
    parameters: dict[str, Any] = field(default_factory=dict)

    def level(self, level_id: str) -> Level | None:
        return next((lvl for lvl in self.levels if lvl.id == level_id), None)

    def evaluate(self, evidence: ClusterEvidence, on: date) -> list[Eligibility]:
        return [
            Eligibility(level, tuple(rule(evidence, on) for rule in level.rules))
            for level in self.levels
        ]

    def next_level(self, evidence: ClusterEvidence, on: date) -> Level | None:
        """The level above the highest one the cluster holds on ``on`` (the lowest level
        when it holds none; None at the top)."""
        held = {lbl.level for lbl in evidence.held(self.id, on)}
        ranks = [i for i, lvl in enumerate(self.levels) if lvl.id in held]
        above = max(ranks) + 1 if ranks else 0
        return self.levels[above] if above < len(self.levels) else None
