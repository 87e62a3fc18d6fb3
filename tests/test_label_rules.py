"""The label rules are pure functions of the data: tested here without the web.

Calendar edges: exactly 12 months, one day short, leap days, month ends.
"""

from __future__ import annotations

from datetime import date

import pytest
from portal_esca import esca_set
from portal_esca.scheme import build, improved_indicators

from portal.labels.scheme import (
    ClusterEvidence,
    EvidenceData,
    LabelData,
    RoundData,
    Verdict,
    add_months,
    months_apart,
    valid_until,
)


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context():
        yield


def test_calendar_rules():
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert months_apart(date(2024, 3, 15), date(2025, 3, 15), 12)  # exactly 12 months
    assert not months_apart(date(2024, 3, 15), date(2025, 3, 14), 12)  # one day short
    assert months_apart(date(2024, 2, 29), date(2025, 2, 28), 12)  # leap day
    assert not months_apart(date(2024, 2, 29), date(2025, 2, 27), 12)
    assert valid_until(date(2025, 3, 15), 24) == date(2027, 3, 14)
    assert valid_until(date(2024, 2, 29), 24) == date(2026, 2, 27)


def _values(score: float, **overrides) -> dict:
    values = {i.id: (score, "") for i in esca_set().indicators}
    values.update({k: (v, "") for k, v in overrides.items()})
    return values


def _round(day, score=3, audit=False, **overrides):
    return RoundData(day, "esca-gold", "2013", _values(score, **overrides), audit)


SCHEME = build("2013", gold_validity_months=24)


def _verdicts(evidence, on, level):
    result = next(e for e in SCHEME.evaluate(evidence, on) if e.level.id == level)
    return [r.verdict for r in result.results], result


def test_bronze_needs_a_round():
    verdicts, _ = _verdicts(ClusterEvidence(), date(2025, 1, 1), "bronze")
    assert verdicts == [Verdict.NOT_MET]
    verdicts, result = _verdicts(
        ClusterEvidence(rounds=(_round(date(2024, 5, 2)),)), date(2025, 1, 1), "bronze"
    )
    assert verdicts == [Verdict.MET] and result.eligible
    # A round after the day of the check does not count.
    verdicts, _ = _verdicts(
        ClusterEvidence(rounds=(_round(date(2025, 5, 2)),)), date(2025, 1, 1), "bronze"
    )
    assert verdicts == [Verdict.NOT_MET]


def test_silver_needs_rounds_twelve_months_apart():
    first = _round(date(2024, 3, 15), score=2)
    short = _round(date(2025, 3, 14), score=4)
    exact = _round(date(2025, 3, 15), score=4)
    on = date(2025, 6, 1)
    verdicts, _ = _verdicts(ClusterEvidence(rounds=(first, short)), on, "silver")
    assert verdicts[0] == Verdict.NOT_MET
    verdicts, _ = _verdicts(ClusterEvidence(rounds=(first, exact)), on, "silver")
    assert verdicts[0] == Verdict.MET


def test_silver_improvements_are_proposed_then_need_documenting():
    first = _round(date(2024, 3, 15), score=3)
    second = _round(
        date(2025, 4, 1), score=3, engagement=4, concentration=5, services=4, communication=2
    )
    evidence = ClusterEvidence(rounds=(first, second))
    on = date(2025, 6, 1)
    assert set(improved_indicators(evidence, on, 12)) == {"engagement", "concentration", "services"}
    verdicts, result = _verdicts(evidence, on, "silver")
    assert verdicts == [Verdict.MET, Verdict.NEEDS_EVIDENCE, Verdict.NEEDS_EVIDENCE]
    assert set(result.results[1].indicators) == {"engagement", "concentration", "services"}
    documented = tuple(
        EvidenceData("improvement", date(2025, 5, 1), i, "What we did", "esca")
        for i in ("engagement", "concentration", "services")
    )
    review = (
        EvidenceData("expert_review", date(2025, 5, 20), text="Recommends silver", scheme="esca"),
    )
    verdicts, result = _verdicts(
        ClusterEvidence(rounds=(first, second), evidence=documented + review), on, "silver"
    )
    assert verdicts == [Verdict.MET, Verdict.MET, Verdict.MET] and result.eligible


def test_silver_with_too_few_improvements_is_not_met():
    evidence = ClusterEvidence(
        rounds=(_round(date(2024, 1, 10)), _round(date(2025, 2, 1), engagement=5, services=4))
    )
    verdicts, _ = _verdicts(evidence, date(2025, 3, 1), "silver")
    assert verdicts[1] == Verdict.NOT_MET


def test_gold_minimums_and_total():
    on = date(2025, 9, 1)
    verdicts, _ = _verdicts(
        ClusterEvidence(rounds=(_round(date(2025, 8, 1), score=5),)), on, "gold"
    )
    assert verdicts == [Verdict.NOT_MET, Verdict.NOT_MET]  # not an audit round
    # 4 points each: 124 of 155 = 80 %: exactly the threshold.
    verdicts, result = _verdicts(
        ClusterEvidence(rounds=(_round(date(2025, 8, 1), score=4, audit=True),)), on, "gold"
    )
    assert verdicts == [Verdict.MET, Verdict.MET] and result.eligible
    # High total but one indicator under its minimum.
    verdicts, result = _verdicts(
        ClusterEvidence(rounds=(_round(date(2025, 8, 1), score=5, audit=True, engagement=2),)),
        on,
        "gold",
    )
    assert verdicts == [Verdict.NOT_MET, Verdict.MET] and result.results[0].indicators == (
        "engagement",
    )
    # Everything at the minimum (3) is only 60 %.
    verdicts, _ = _verdicts(
        ClusterEvidence(rounds=(_round(date(2025, 8, 1), score=3, audit=True),)), on, "gold"
    )
    assert verdicts == [Verdict.MET, Verdict.NOT_MET]


def test_validity_by_scheme_version_and_the_next_level():
    old, new = build("2013", 24), build("2020", 36)
    assert old.level("gold").validity_months == 24 and new.level("gold").validity_months == 36
    bronze = LabelData("esca", "bronze", date(2024, 5, 1), date(2026, 4, 30))
    evidence = ClusterEvidence(labels=(bronze,))
    assert old.next_level(evidence, date(2025, 1, 1)).id == "silver"
    assert old.next_level(evidence, date(2026, 5, 1)).id == "bronze"  # the bronze label lapsed
    gold = LabelData("esca", "gold", date(2025, 1, 1), date(2026, 12, 31))
    assert old.next_level(ClusterEvidence(labels=(gold,)), date(2025, 6, 1)) is None
