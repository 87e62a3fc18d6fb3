"""The label rules are pure functions of the data and a day: tested here without the web.

Calendar edges: exactly 12 months, one day short, leap days, month ends, validity windows
(a benchmarking or a label counts only inside its window), award days and backdated
evidence (what happened after the day of the check is ignored; what is typed in today but
happened earlier counts from the day it happened). Scores: exact decimals at and around
every threshold. Every date here is fixed: nothing depends on today.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portal_esca import esca_set
from portal_esca import scheme as esca
from portal_esca.scheme import build, improved_indicators

from portal.benchmarking.indicators import IndicatorSet
from portal.labels.scheme import (
    ClusterEvidence,
    EvidenceData,
    LabelData,
    RoundData,
    Validity,
    Verdict,
    add_months,
    exact,
    format_share,
    months_apart,
    months_between,
    share_shown,
    valid_until,
)

MET, NOT_MET, NEEDS = Verdict.MET, Verdict.NOT_MET, Verdict.NEEDS_EVIDENCE
DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))
# ends of months, leap days included: where the calendar rules bite
MONTH_ENDS = st.sampled_from(
    [date(2024, 2, 29), date(2023, 2, 28), date(2024, 1, 31), date(2025, 8, 31), date(2025, 4, 30)]
)
SOME_DAYS = st.one_of(DAYS, MONTH_ENDS)
PROPERTY = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context():
        yield


# --- the calendar -----------------------------------------------------------------------------


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
    assert months_between(date(2024, 3, 15), date(2025, 3, 14)) == 11
    assert months_between(date(2024, 3, 15), date(2025, 3, 15)) == 12
    assert months_between(date(2024, 1, 31), date(2024, 2, 29)) == 1  # the month's last day
    assert months_between(date(2024, 2, 29), date(2025, 2, 28)) == 12
    assert months_between(date(2025, 3, 15), date(2024, 3, 15)) == 0


def test_validity_windows():
    # A benchmarking of 10 Apr 2014 counts 24 months from its month: through 31 Mar 2016.
    bench = Validity(24, from_month=True)
    assert (bench.start(date(2014, 4, 10)), bench.until(date(2014, 4, 10))) == (
        date(2014, 4, 1),
        date(2016, 3, 31),
    )
    assert bench.covers(date(2014, 4, 10), date(2016, 3, 31))
    assert not bench.covers(date(2014, 4, 10), date(2016, 4, 1))
    assert not bench.covers(date(2014, 4, 10), date(2016, 5, 2))
    assert not bench.covers(date(2014, 4, 10), date(2014, 4, 9))  # not before it happened
    # From the day: a leap day's window of 24 months ends on 27 Feb 2026.
    assert Validity(24).until(date(2024, 2, 29)) == date(2026, 2, 27)
    assert Validity(24, from_month=True).until(date(2024, 2, 29)) == date(2026, 1, 31)
    assert Validity(1).until(date(2025, 1, 31)) == date(2025, 2, 27)
    # The ESCA bronze level's window is the benchmarking's.
    bronze = build("2013", 24).level("bronze")
    assert bronze.validity == bench


@PROPERTY
@given(SOME_DAYS, st.integers(min_value=0, max_value=150))
def test_months_apart_is_add_months(day, months):
    later = add_months(day, months)
    assert months_apart(day, later, months)
    assert (
        later.day <= day.day
        and (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    )
    if months:
        assert not months_apart(day, later - timedelta(days=1), months)
    assert months_between(day, later) >= months


@PROPERTY
@given(SOME_DAYS, SOME_DAYS)
def test_months_between_is_the_largest_whole_number_of_months(earlier, later):
    n = months_between(earlier, later)
    assert n >= 0
    if later >= earlier:
        assert months_apart(earlier, later, n)
    assert not months_apart(earlier, later, n + 1)


@PROPERTY
@given(SOME_DAYS, SOME_DAYS, st.integers(min_value=1, max_value=120), st.booleans())
def test_a_window_covers_its_days_only(day, on, months, from_month):
    window = Validity(months, from_month)
    until = window.until(day)
    # The window is N whole months: the day after it is N months after its start.
    assert until + timedelta(days=1) == add_months(window.start(day), months)
    assert until >= day  # a day's own window always includes it
    assert window.covers(day, on) == (day <= on <= until)
    if window.covers(day, on):
        assert not months_apart(window.start(day), on, months)


# --- what the rules see on a day ----------------------------------------------------------


def _values(score, **overrides) -> dict:
    values = {i.id: (score, "") for i in esca_set().indicators}
    values.update({k: (v, "") for k, v in overrides.items()})
    return values


def _round(day, score=3, audit=False, **overrides):
    return RoundData(day, "esca-gold", "2013", _values(score, **overrides), audit)


SCHEME = build("2013", gold_validity_months=24)
IMPROVED = {"engagement": 4, "concentration": 5, "services": 4}


def _verdicts(evidence, on, level, scheme=SCHEME):
    result = next(e for e in scheme.evaluate(evidence, on) if e.level.id == level)
    return [r.verdict for r in result.results], result


def _documented(day, indicators=tuple(IMPROVED)):
    return tuple(EvidenceData("improvement", day, i, "What we did", "esca") for i in indicators)


def _review(day):
    return EvidenceData("expert_review", day, text="Recommends silver", scheme="esca")


def test_bronze_needs_a_round_valid_on_the_day():
    verdicts, _ = _verdicts(ClusterEvidence(), date(2025, 1, 1), "bronze")
    assert verdicts == [NOT_MET]
    evidence = ClusterEvidence(rounds=(_round(date(2024, 5, 2)),))
    verdicts, result = _verdicts(evidence, date(2025, 1, 1), "bronze")
    assert verdicts == [MET] and result.eligible
    assert "valid until 30 Apr 2026" in result.results[0].reason
    # A round after the day of the check does not count.
    verdicts, _ = _verdicts(evidence, date(2024, 5, 1), "bronze")
    assert verdicts == [NOT_MET]
    # 24 months from its month: through 30 Apr 2026, not on 1 May 2026.
    assert _verdicts(evidence, date(2026, 4, 30), "bronze")[0] == [MET]
    verdicts, result = _verdicts(evidence, date(2026, 5, 1), "bronze")
    assert verdicts == [NOT_MET]
    assert result.results[0].reason == (
        "The newest benchmarking, on 2 May 2024, was valid until 30 Apr 2026. "
        "A new benchmarking is needed."
    )


@PROPERTY
@given(SOME_DAYS, SOME_DAYS)
def test_bronze_is_met_exactly_inside_the_benchmarkings_window(held_on, on):
    evidence = ClusterEvidence(rounds=(_round(held_on),))
    inside = held_on <= on <= valid_until(held_on.replace(day=1), 24)
    assert _verdicts(evidence, on, "bronze")[0] == [MET if inside else NOT_MET]
    if inside:  # an award on that day expires with the benchmarking, never before its day
        assert SCHEME.level("bronze").expiry(evidence, on) == valid_until(
            held_on.replace(day=1), 24
        )
        assert SCHEME.level("bronze").expiry(evidence, on) >= on


def test_silver_needs_rounds_twelve_months_apart_and_names_them():
    first = _round(date(2024, 3, 15), score=2)
    short = _round(date(2025, 3, 14), score=4)
    exact_ = _round(date(2025, 3, 15), score=4)
    on = date(2025, 6, 1)
    verdicts, result = _verdicts(ClusterEvidence(rounds=(first, short)), on, "silver")
    assert verdicts[0] == NOT_MET
    assert result.results[0].reason == (
        "The rounds on 15 Mar 2024 and 14 Mar 2025 are 11 months apart; the second may be "
        "held on or after 15 Mar 2025."
    )
    verdicts, result = _verdicts(ClusterEvidence(rounds=(first, exact_)), on, "silver")
    assert verdicts[0] == MET
    assert result.results[0].reason == "Rounds on 15 Mar 2024 and 15 Mar 2025, 12 months apart."
    # A leap day: 29 Feb 2024 and 28 Feb 2025 are 12 months apart.
    leap = ClusterEvidence(rounds=(_round(date(2024, 2, 29)), _round(date(2025, 2, 28))))
    verdicts, result = _verdicts(leap, date(2025, 3, 1), "silver")
    assert verdicts[0] == MET and "12 months apart" in result.results[0].reason


def test_silver_needs_benchmarkings_still_valid_on_the_day():
    """A bronze benchmarking of April 2014 (valid 24 months) no longer counts in May 2016."""
    rounds = (_round(date(2014, 4, 10)), _round(date(2015, 5, 4), **IMPROVED))
    evidence = ClusterEvidence(
        rounds=rounds, evidence=_documented(date(2015, 6, 1)) + (_review(date(2015, 6, 10)),)
    )
    verdicts, result = _verdicts(evidence, date(2016, 3, 31), "silver")
    assert verdicts == [MET, MET, MET] and result.eligible
    verdicts, result = _verdicts(evidence, date(2016, 5, 2), "silver")
    assert verdicts == [NOT_MET, NOT_MET, NEEDS]
    assert result.results[0].reason == (
        "The first round was on 4 May 2015; the second may be held on or after 4 May 2016. "
        "The round on 10 Apr 2014 no longer counts: it was valid until 31 Mar 2016."
    )
    assert "no two valid benchmarkings" in result.results[1].reason
    # Once both lapsed, a new benchmarking is needed.
    verdicts, result = _verdicts(evidence, date(2017, 5, 1), "silver")
    assert verdicts[0] == NOT_MET and "A new benchmarking is needed" in result.results[0].reason


def test_silver_improvements_name_the_rounds_and_the_indicators():
    first = _round(date(2024, 3, 15), score=3)
    second = _round(date(2025, 4, 1), score=3, communication=2, **IMPROVED)
    evidence = ClusterEvidence(rounds=(first, second))
    on = date(2025, 6, 1)
    assert improved_indicators(evidence, on, 12, Validity(24, True)) == [
        "engagement",
        "concentration",
        "services",
    ]
    verdicts, result = _verdicts(evidence, on, "silver")
    assert verdicts == [MET, NEEDS, NEEDS]
    improvements = result.results[1]
    assert improvements.indicators == ("engagement", "concentration", "services")  # for machines
    assert improvements.reason == (
        "Between the rounds on 15 Mar 2024 and 1 Apr 2025, 3 indicators improved: "
        "Engagement of participants, Geographical concentration, Activities and services. "
        "Document what the cluster did and the effect for at least 3 of them (0 so far)."
    )
    with force_locale("nb"):
        reason = _verdicts(evidence, on, "silver")[1].results[1].reason
    assert "Deltakernes engasjement" in reason and "Engagement of participants" not in reason
    documented = ClusterEvidence(
        rounds=(first, second),
        evidence=_documented(date(2025, 5, 1)) + (_review(date(2025, 5, 20)),),
    )
    verdicts, result = _verdicts(documented, on, "silver")
    assert verdicts == [MET, MET, MET] and result.eligible
    assert "documented: Engagement of participants, Geographical concentration" in (
        result.results[1].reason
    )


def test_silver_with_too_few_improvements_names_them():
    evidence = ClusterEvidence(
        rounds=(_round(date(2024, 1, 10)), _round(date(2025, 2, 1), engagement=5, services=4))
    )
    verdicts, result = _verdicts(evidence, date(2025, 3, 1), "silver")
    assert verdicts[1] == NOT_MET
    assert result.results[1].reason == (
        "Between the rounds on 10 Jan 2024 and 1 Feb 2025, 2 indicators improved: "
        "Engagement of participants, Activities and services. 3 are needed."
    )


def test_backdated_evidence_counts_from_the_day_it_happened():
    """Evidence typed in later with the day it happened counts from that day on; evidence of a
    day after the check, or of an earlier silver process, does not."""
    rounds = (_round(date(2024, 3, 15)), _round(date(2025, 4, 1), **IMPROVED))
    evidence = ClusterEvidence(
        rounds=rounds, evidence=_documented(date(2025, 5, 1)) + (_review(date(2025, 5, 20)),)
    )
    assert _verdicts(evidence, date(2025, 5, 19), "silver")[0] == [MET, MET, NEEDS]
    assert _verdicts(evidence, date(2025, 5, 20), "silver")[0] == [MET, MET, MET]
    assert _verdicts(evidence, date(2025, 4, 30), "silver")[0] == [MET, NEEDS, NEEDS]
    # A review from before the second round reviewed something else.
    old_review = ClusterEvidence(
        rounds=rounds, evidence=_documented(date(2025, 5, 1)) + (_review(date(2025, 3, 1)),)
    )
    verdicts, result = _verdicts(old_review, date(2025, 6, 1), "silver")
    assert verdicts == [MET, MET, NEEDS]
    assert "record a review made on or after that day" in result.results[2].reason
    assert "1 Apr 2025" in result.results[2].reason


@PROPERTY
@given(st.integers(min_value=-400, max_value=400), st.integers(min_value=0, max_value=400))
def test_a_review_counts_from_its_day_whatever_day_it_was_typed_in(review_offset, on_offset):
    second = date(2025, 4, 1)
    rounds = (_round(date(2024, 3, 15)), _round(second, **IMPROVED))
    review_day = second + timedelta(days=review_offset)
    on = second + timedelta(days=on_offset)
    evidence = ClusterEvidence(
        rounds=rounds, evidence=_documented(date(2024, 3, 15)) + (_review(review_day),)
    )
    rounds_valid = on <= date(2026, 2, 28)  # the first round counts through Feb 2026
    verdicts, _ = _verdicts(evidence, on, "silver")
    if rounds_valid:
        assert verdicts[2] == (MET if second <= review_day <= on else NEEDS)


@PROPERTY
@given(SOME_DAYS, st.integers(min_value=0, max_value=60), SOME_DAYS)
def test_a_label_is_held_from_its_day_through_its_expiry(awarded, months, on):
    label = LabelData("esca", "bronze", awarded, valid_until(awarded, max(months, 1)))
    evidence = ClusterEvidence(labels=(label,))
    held = awarded <= on <= label.expires_on
    assert bool(evidence.held("esca", on)) == held
    assert SCHEME.next_level(evidence, on).id == ("silver" if held else "bronze")


def test_validity_by_scheme_version_and_the_next_level():
    old, new = build("2013", 24), build("2020", 36)
    assert old.level("gold").validity_months == 24 and new.level("gold").validity_months == 36
    bronze = LabelData("esca", "bronze", date(2024, 5, 1), date(2026, 4, 30))
    evidence = ClusterEvidence(labels=(bronze,))
    assert old.next_level(evidence, date(2025, 1, 1)).id == "silver"
    assert old.next_level(evidence, date(2026, 5, 1)).id == "bronze"  # the bronze label lapsed
    assert old.next_level(evidence, date(2024, 4, 30)).id == "bronze"  # not yet awarded
    gold = LabelData("esca", "gold", date(2025, 1, 1), date(2026, 12, 31))
    assert old.next_level(ClusterEvidence(labels=(gold,)), date(2025, 6, 1)) is None
    assert old.next_level(ClusterEvidence(labels=(gold,)), date(2024, 12, 31)).id == "bronze"


# --- exact scores --------------------------------------------------------------------------


def test_exact_values():
    assert exact(3.1) == Decimal("3.1") and exact(0.1) + exact(0.2) == Decimal("0.3")
    assert exact(Decimal("2.50")) == Decimal("2.50") and exact(4) == Decimal(4)
    # a whole float prints as it did: 13 points, not 13.0
    assert f"{sum(exact(v) for v in (3.0, 4.0, 6.0)):g}" == "13" and str(exact(2.0)) == "2"
    assert RoundData(date(2025, 1, 1), "s", "1", {"a": (3.1, "")}).value("a") == Decimal("3.1")
    assert RoundData(date(2025, 1, 1), "s", "1", {}).value("a") is None


def test_a_share_is_shown_with_one_decimal_never_across_its_threshold():
    assert share_shown(80, 100) == Decimal("80.0")
    assert share_shown(Decimal("79.95"), 100) == Decimal("79.9")
    assert share_shown(Decimal("80.05"), 100) == Decimal("80.0")
    assert share_shown(Decimal("79.99999999999999999999999999999999"), 100) == Decimal("79.9")
    assert share_shown(120, 150) == Decimal("80.0") and share_shown(124, 155) == Decimal("80.0")
    assert share_shown(2, 3) == Decimal("66.6") and share_shown(2, 3, at_least=False) == Decimal(
        "66.7"
    )
    assert share_shown(1, 0) == Decimal("0.0")
    assert format_share(Decimal("79.95"), 100) == "79.9"
    with force_locale("nb"):
        assert format_share(Decimal("79.95"), 100) == "79,9"


TENTHS = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n).scaleb(-1))


@PROPERTY
@given(
    st.decimals(min_value=0, max_value=1000, places=3),
    st.decimals(min_value=Decimal("0.001"), max_value=1000, places=3),
    TENTHS,
)
def test_the_shown_share_meets_a_threshold_exactly_when_the_share_does(part, whole, threshold):
    met = part * 100 >= threshold * whole  # exact: a few digits each
    assert (share_shown(part, whole) >= threshold) == met
    assert (share_shown(part, whole, at_least=False) <= threshold) == (
        part * 100 <= threshold * whole
    )


def _set(n: int) -> IndicatorSet:
    """An ESCA-like set of ``n`` indicators scored 0-5 (minimum 3): 5n points at most."""
    return IndicatorSet.from_dict(
        {
            "id": "esca-gold",
            "version": "2013",
            "title": "Test set",
            "groups": [{"id": "g", "name": "Group"}],
            "indicators": [
                {
                    "id": f"i{k:02d}",
                    "group": "g",
                    "name": {"en": f"Indicator {k}", "nb": f"Indikator {k}"},
                    "max": 5,
                    "thresholds": {"green": 4, "yellow": 3},
                }
                for k in range(n)
            ],
        }
    )


def _audit_of(values: list, day=date(2025, 8, 1)) -> ClusterEvidence:
    """An audit round with the given values (floats, as the database stores them)."""
    values = {f"i{k:02d}": (float(v), "") for k, v in enumerate(values)}
    return ClusterEvidence(rounds=(RoundData(day, "esca-gold", "2013", values, True),))


def _one_decimal_values(total_tenths: int, n: int) -> list[Decimal]:
    """``n`` values of one decimal in 3.0-5.0 adding up to ``total_tenths`` / 10, unevenly."""
    base, extra = divmod(total_tenths, n)
    values = [Decimal(base + (1 if k < extra else 0)).scaleb(-1) for k in range(n)]
    for k in range(0, n - 1, 2):  # uneven: move 0.3 from one to the next
        values[k], values[k + 1] = values[k] + Decimal("0.3"), values[k + 1] - Decimal("0.3")
    assert sum(values) == Decimal(total_tenths).scaleb(-1) and all(3 <= v <= 5 for v in values)
    return values


# Thirty values typed with one decimal (3.0-5.0) that add up to exactly 120; added up as
# binary floats, in this order, they make 119.99999999999999.
TYPED_120 = [
    Decimal(n).scaleb(-1)
    for n in (31, 32, 32, 41, 35, 39, 38, 49, 36, 49, 31, 48, 35, 43, 50)
    + (42, 46, 41, 47, 44, 46, 38, 31, 30, 41, 44, 40, 42, 43, 36)
]


def test_one_decimal_values_adding_up_to_120_of_150_are_gold(monkeypatch):
    """The 2013 form: 150 points, gold at 120. Thirty one-decimal values adding up to exactly
    120 are 80 %: met, though their binary floats add up to a hair less."""
    monkeypatch.setattr(esca, "_indicator_set", lambda: _set(30))
    values = TYPED_120
    assert sum(values) == 120 and sum(float(v) for v in values) < 120.0
    on = date(2025, 9, 1)
    verdicts, result = _verdicts(_audit_of(values), on, "gold")
    assert verdicts == [MET, MET] and result.eligible
    assert result.results[1].reason == (
        "In the audit of 1 Aug 2025: 120 of 150 points (80.0 %); at least 80.0 % is needed."
    )
    lower = [*values[:-1], values[-1] - Decimal("0.1")]
    verdicts, result = _verdicts(_audit_of(lower), on, "gold")
    assert verdicts == [MET, NOT_MET]
    assert "119.9 of 150 points (79.9 %)" in result.results[1].reason


@pytest.mark.parametrize(
    ("total_tenths", "shown", "verdict"),
    [(1599, "79.9", NOT_MET), (1600, "80.0", MET), (1601, "80.0", MET), (1602, "80.1", MET)],
)
def test_gold_total_around_80_percent(monkeypatch, total_tenths, shown, verdict):
    """Of 200 points: 159.9 is 79.95 % (shown 79.9 %, not met), 160 is 80 % exactly (met),
    160.1 is 80.05 % (shown 80.0 %, met)."""
    monkeypatch.setattr(esca, "_indicator_set", lambda: _set(40))
    values = _one_decimal_values(total_tenths, 40)
    verdicts, result = _verdicts(_audit_of(values), date(2025, 9, 1), "gold")
    assert verdicts[1] == verdict
    assert f"({shown} %)" in result.results[1].reason


def test_the_pass_mark_is_data_of_the_scheme_version(monkeypatch):
    monkeypatch.setattr(esca, "_indicator_set", lambda: _set(30))
    evidence = _audit_of(TYPED_120)  # 80 %
    stricter = build("2099", 36, max_points=150, gold_points=Decimal("127.5"))  # 85 %
    assert stricter.parameters["max_points"] == 150 and stricter.parameters[
        "gold_points"
    ] == Decimal("127.5")
    verdicts, result = _verdicts(evidence, date(2025, 9, 1), "gold", stricter)
    assert verdicts == [MET, NOT_MET]
    assert result.results[1].title == "A total of at least 85.0 % of the maximum points"
    with pytest.raises(ValueError):
        build("2099", 36, max_points=150, gold_points=151)


def test_gold_on_the_illustrative_set_counts_the_share_of_its_maximum():
    """The shipped set has 31 indicators of 5 points (155): 80 % of it is 124 points."""
    on = date(2025, 9, 1)
    verdicts, _ = _verdicts(
        ClusterEvidence(rounds=(_round(date(2025, 8, 1), score=5),)), on, "gold"
    )
    assert verdicts == [NOT_MET, NOT_MET]  # not an audit round
    verdicts, result = _verdicts(
        ClusterEvidence(rounds=(_round(date(2025, 8, 1), score=4, audit=True),)), on, "gold"
    )
    assert verdicts == [MET, MET] and result.eligible
    assert "124 of 155 points (80.0 %)" in result.results[1].reason
    # One-decimal values adding up to 123.9 (79.9 %): not met.
    lower = ClusterEvidence(
        rounds=(_round(date(2025, 8, 1), score=4.0, audit=True, engagement=3.9),)
    )
    assert _verdicts(lower, on, "gold")[0] == [MET, NOT_MET]
    # Everything at the minimum (3) is only 60 %.
    verdicts, _ = _verdicts(
        ClusterEvidence(rounds=(_round(date(2025, 8, 1), score=3, audit=True),)), on, "gold"
    )
    assert verdicts == [MET, NOT_MET]


def test_gold_minimums_name_every_indicator_below_its_minimum():
    on = date(2025, 9, 1)
    audit = _round(date(2025, 8, 1), score=5, audit=True, engagement=2, private_funds=2.9)
    del audit.values["services"]
    verdicts, result = _verdicts(ClusterEvidence(rounds=(audit,)), on, "gold")
    assert verdicts[0] == NOT_MET
    minimums = result.results[0]
    assert minimums.indicators == ("engagement", "private_funds", "services")
    assert minimums.reason == (
        "In the audit of 1 Aug 2025, 3 indicators are below their minimum or have no value: "
        "Engagement of participants: 2 (minimum 3); Share of private funds: 2.9 (minimum 3); "
        "Activities and services: no value."
    )
    with force_locale("nb"):
        reason = SCHEME.evaluate(ClusterEvidence(rounds=(audit,)), on)[2].results[0].reason
    assert "Andel private midler: 2,9" in reason
    # A value exactly at its minimum meets it (3.0 typed, stored as a float).
    at_minimum = _round(date(2025, 8, 1), score=5, audit=True, engagement=3.0)
    assert _verdicts(ClusterEvidence(rounds=(at_minimum,)), on, "gold")[0][0] == MET


def test_an_audit_counts_inside_its_window_only():
    audit = _round(date(2023, 5, 10), score=5, audit=True)
    evidence = ClusterEvidence(rounds=(audit,))
    assert _verdicts(evidence, date(2025, 4, 30), "gold")[0] == [MET, MET]
    verdicts, result = _verdicts(evidence, date(2025, 5, 1), "gold")
    assert verdicts == [NOT_MET, NOT_MET]
    assert result.results[0].reason == (
        "The newest audit, on 10 May 2023, was valid until 30 Apr 2025. A new audit is needed."
    )
    # an audit after the day of the check is not there yet
    assert _verdicts(evidence, date(2023, 5, 9), "gold")[1].results[0].reason == (
        "There is no audit round yet."
    )
