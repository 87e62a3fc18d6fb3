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
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_apart(earlier: date, later: date, months: int) -> bool:
    """Whether ``later`` is at least ``months`` calendar months after ``earlier``."""
    return later >= add_months(earlier, months)


def valid_until(start: date, months: int) -> date:
    """The last day of a validity of ``months`` months starting on ``start``."""
    return add_months(start, months) - timedelta(days=1)


class Verdict(enum.StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    NEEDS_EVIDENCE = "needs_evidence"


@dataclass(frozen=True)
class RoundData:
    held_on: date
    indicator_set: str
    set_version: str
    values: dict[str, tuple[float, str]]  # indicator id -> (value, light)
    audit: bool = False


@dataclass(frozen=True)
class LabelData:
    scheme: str
    level: str
    awarded_on: date
    expires_on: date


@dataclass(frozen=True)
class EvidenceData:
    kind: str  # e.g. "improvement", "expert_review"
    recorded_on: date
    indicator_id: str = ""
    text: str = ""
    scheme: str = ""  # the scheme it was recorded for


@dataclass(frozen=True)
class ClusterEvidence:
    """Everything a rule may look at, loaded once per cluster."""

    rounds: tuple[RoundData, ...] = ()
    labels: tuple[LabelData, ...] = ()
    evidence: tuple[EvidenceData, ...] = ()

    def evidence_for(self, scheme: str, kind: str, on: date) -> list[EvidenceData]:
        """Evidence of one kind recorded for a scheme up to ``on``, oldest first."""
        return sorted(
            (
                e
                for e in self.evidence
                if e.scheme == scheme and e.kind == kind and e.recorded_on <= on
            ),
            key=lambda e: e.recorded_on,
        )

    def held(self, scheme: str, on: date) -> list[LabelData]:
        """The scheme's labels valid on ``on``."""
        return [
            lbl
            for lbl in self.labels
            if lbl.scheme == scheme and lbl.awarded_on <= on <= lbl.expires_on
        ]

    def rounds_of(self, indicator_set: str, on: date) -> list[RoundData]:
        return sorted(
            (r for r in self.rounds if r.indicator_set == indicator_set and r.held_on <= on),
            key=lambda r: r.held_on,
        )


@dataclass(frozen=True)
class RuleResult:
    rule: str
    title: str
    verdict: Verdict
    reason: str
    indicators: tuple[str, ...] = ()  # indicators the rule proposes (e.g. improved ones)


Rule = Callable[[ClusterEvidence, date], RuleResult]


@dataclass(frozen=True)
class Level:
    id: str
    name: Any  # a lazy translated string
    rules: tuple[Rule, ...]
    validity_months: int
    # Where the validity starts: "award" (the decision date) or "round" (the newest round).
    valid_from: str = "award"
    # The badge's colour: one of LEVEL_TONES ("" = neutral).
    tone: str = ""


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
        """The level above the highest one the cluster holds a valid label of (the lowest
        level when it holds none; None at the top)."""
        held = {
            lbl.level for lbl in evidence.labels if lbl.scheme == self.id and lbl.expires_on >= on
        }
        ranks = [i for i, lvl in enumerate(self.levels) if lvl.id in held]
        above = max(ranks) + 1 if ranks else 0
        return self.levels[above] if above < len(self.levels) else None
