"""The label calendar's arithmetic (portal.labels.calendar and the ESCA levels' earliest
dates) as pure functions: hand-computed dates at month ends, 29 February, a lapsed round, no
rounds, a held gold, a planned assessment after the deadline. Every date is fixed and handed
to the functions: nothing depends on today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from portal_esca import scheme as esca
from portal_esca.scheme import build

from portal.labels.calendar import (
    PlannedData,
    counts_as_renewal,
    projected_finish,
    risks,
    scheme_calendar,
)
from portal.labels.scheme import (
    ClusterEvidence,
    LabelData,
    LabelScheme,
    Level,
    RoundData,
    RuleResult,
    Validity,
    Verdict,
    add_months,
)

SCHEME = build("2020", gold_validity_months=36)
ROUNDS = Validity(24, from_month=True)
PROPERTY = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _request(app):
    with app.test_request_context():  # rule reasons are written in the user's language
        yield


def bench(day: date, audit: bool = False, score: float = 3.0) -> RoundData:
    values = {i.id: (score, "") for i in esca._indicator_set().indicators}
    return RoundData(day, "esca-gold", "2013", values, audit, "audit" if audit else "benchmarking")


def level_dates(calendar, level_id):
    return next(d for d in calendar.levels if d.level.id == level_id)


# --- earliest dates ---------------------------------------------------------------------------


def test_no_rounds_silver_is_twelve_months_after_a_first_benchmarking_today():
    today = date(2026, 12, 6)
    calendar = scheme_calendar(SCHEME, ClusterEvidence(), today)
    assert level_dates(calendar, "silver").earliest == date(2027, 12, 6)
    assert level_dates(calendar, "bronze").earliest == today  # a benchmarking any day
    assert not level_dates(calendar, "bronze").eligible
    assert calendar.next_level == "bronze" and calendar.held == []
    assert [r.rule for r in level_dates(calendar, "bronze").unmet] == ["round"]


def test_silver_twelve_months_after_a_benchmarking_of_29_february():
    evidence = ClusterEvidence(rounds=(bench(date(2024, 2, 29)),))
    assert esca.earliest_silver(evidence, date(2024, 6, 1), 12, ROUNDS) == date(2025, 2, 28)
    calendar = scheme_calendar(SCHEME, evidence, date(2024, 6, 1))
    assert level_dates(calendar, "silver").earliest == date(2025, 2, 28)
    assert level_dates(calendar, "bronze").earliest == date(2024, 6, 1)  # eligible now
    assert level_dates(calendar, "bronze").eligible


def test_silver_at_a_month_end_and_never_before_today():
    evidence = ClusterEvidence(rounds=(bench(date(2025, 3, 31)),))
    assert esca.earliest_silver(evidence, date(2025, 4, 30), 12, ROUNDS) == date(2026, 3, 31)
    # already 12 months on: the second benchmarking can be held today (round valid to 28 Feb 27)
    assert esca.earliest_silver(evidence, date(2026, 12, 6), 12, ROUNDS) == date(2026, 12, 6)


def test_a_lapsed_round_does_not_count_for_the_earliest_silver():
    # valid from 1 May 2022 through 30 Apr 2024: lapsed on 1 Jun 2024
    evidence = ClusterEvidence(rounds=(bench(date(2022, 5, 10)),))
    assert esca.earliest_silver(evidence, date(2024, 6, 1), 12, ROUNDS) == date(2025, 6, 1)


def test_silver_waits_for_a_round_whose_validity_lasts_twelve_months():
    short = Validity(12, from_month=True)  # a benchmarking valid 12 months from its month
    # 15 Mar 2024 counts through 28 Feb 2025: 15 Mar 2025 is too late for it; the same
    # for 10 Sep 2024 (through 31 Aug 2025); a validity this short never holds a pair
    evidence = ClusterEvidence(rounds=(bench(date(2024, 3, 15)), bench(date(2024, 9, 10))))
    assert esca.earliest_silver(evidence, date(2024, 10, 1), 12, short) is None
    longer = Validity(18, from_month=True)  # 15 Mar 2024 counts through 31 Aug 2025
    assert esca.earliest_silver(evidence, date(2024, 10, 1), 12, longer) == date(2025, 3, 15)


def test_a_valid_pair_makes_silver_timing_met_today():
    evidence = ClusterEvidence(rounds=(bench(date(2025, 1, 15)), bench(date(2026, 1, 15))))
    assert esca.earliest_silver(evidence, date(2026, 2, 1), 12, ROUNDS) == date(2026, 2, 1)


def test_a_level_that_declares_no_earliest_date():
    def never(_evidence, _on):
        return RuleResult("never", "never", Verdict.NOT_MET, "no")

    scheme = LabelScheme("x", "1", "X", (Level("one", "One", (never,), 12),))
    dates = level_dates(scheme_calendar(scheme, ClusterEvidence(), date(2026, 1, 1)), "one")
    assert dates.earliest is None and not dates.scheme_says


# --- held labels, renewals, risks ---------------------------------------------------------------


def test_a_held_gold_with_an_audit_planned_after_its_deadline():
    today = date(2026, 12, 6)
    gold = LabelData("esca", "gold", date(2025, 6, 15), date(2028, 6, 14))
    evidence = ClusterEvidence(labels=(gold,))
    late = PlannedData("esca", "audit", date(2028, 7, 1), "gold", 7)
    calendar = scheme_calendar(SCHEME, evidence, today, [late])
    dates = level_dates(calendar, "gold")
    assert dates.held == gold and dates.renew_by == date(2028, 6, 14)
    assert dates.renewal is None and dates.too_late == (late,)
    assert calendar.ahead == [] and calendar.next_level is None
    found = risks(1, calendar, add_months(today, 24))
    assert [(r.kind, r.day) for r in found] == [("no_renewal", date(2028, 6, 14))]
    assert risks(1, calendar, add_months(today, 12)) == []  # lapses beyond the horizon
    on_time = PlannedData("esca", "audit", date(2028, 6, 14), "", 8)  # the last day counts
    calendar = scheme_calendar(SCHEME, evidence, today, [late, on_time])
    assert level_dates(calendar, "gold").renewal == on_time
    assert risks(1, calendar, add_months(today, 24)) == []


def test_what_counts_as_a_renewal():
    today = date(2026, 12, 6)
    silver = LabelData("esca", "silver", date(2025, 3, 15), date(2027, 3, 14))

    def planned(day, level="", scheme="esca"):
        return PlannedData(scheme, "benchmarking", day, level)

    assert counts_as_renewal(SCHEME, planned(date(2027, 3, 14)), silver, today)
    assert counts_as_renewal(SCHEME, planned(date(2027, 1, 1), "gold"), silver, today)
    assert not counts_as_renewal(SCHEME, planned(date(2027, 1, 1), "bronze"), silver, today)
    assert not counts_as_renewal(SCHEME, planned(date(2027, 3, 15)), silver, today)  # too late
    assert not counts_as_renewal(SCHEME, planned(date(2026, 12, 5)), silver, today)  # past
    assert not counts_as_renewal(SCHEME, planned(date(2027, 1, 1), scheme="arena"), silver, today)


def test_a_longer_higher_label_covers_a_lapsing_lower_one():
    today = date(2026, 12, 6)
    bronze = LabelData("esca", "bronze", date(2025, 2, 1), date(2027, 1, 31))
    silver = LabelData("esca", "silver", date(2026, 2, 1), date(2028, 1, 31))
    calendar = scheme_calendar(SCHEME, ClusterEvidence(labels=(bronze, silver)), today)
    assert level_dates(calendar, "bronze").covered
    assert [(r.kind, r.dates.level.id) for r in risks(1, calendar, add_months(today, 24))] == [
        ("no_renewal", "silver")
    ]


def test_can_apply_now_and_a_plan_finishing_after_the_deadline():
    today = date(2026, 12, 6)
    # benchmarked 10 Feb 2025 (valid through 31 Jan 2027) with a bronze resting on it
    bronze = LabelData("esca", "bronze", date(2025, 2, 20), date(2027, 1, 31))
    evidence = ClusterEvidence(rounds=(bench(date(2025, 2, 10)),), labels=(bronze,))
    calendar = scheme_calendar(SCHEME, evidence, today, plan_finish=date(2027, 6, 30))
    kinds = [(r.kind, r.dates.level.id) for r in risks(1, calendar, add_months(today, 3))]
    assert kinds == [("no_renewal", "bronze"), ("plan_late", "bronze")]
    assert level_dates(calendar, "silver").earliest == date(2026, 12, 6)  # 12 months on
    # without the label: bronze can be applied for now
    calendar = scheme_calendar(SCHEME, ClusterEvidence(rounds=evidence.rounds), today)
    assert [(r.kind, r.dates.level.id, r.day) for r in risks(1, calendar, today)] == [
        ("can_apply", "bronze", today)
    ]


def test_projected_finish():
    today = date(2026, 12, 6)
    assert projected_finish(date(2027, 6, 30), date(2027, 9, 15), 2, today) == date(2027, 9, 15)
    assert projected_finish(date(2027, 6, 30), date(2027, 1, 31), 1, today) == date(2027, 6, 30)
    # past its end with an overdue action open: not before today
    assert projected_finish(date(2026, 1, 31), date(2026, 1, 15), 1, today) == today
    assert projected_finish(date(2026, 1, 31), None, 1, today) == today
    assert projected_finish(date(2026, 1, 31), None, 0, today) == date(2026, 1, 31)  # done


# --- properties ---------------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
WINDOWS = st.sampled_from(
    [Validity(24, from_month=True), Validity(12, from_month=True), Validity(18), Validity(30)]
)


@st.composite
def histories(draw):
    today = draw(DAYS)
    ago = draw(st.lists(st.integers(min_value=0, max_value=1100), max_size=4, unique=True))
    rounds = tuple(bench(today - timedelta(days=n)) for n in sorted(ago, reverse=True))
    return today, ClusterEvidence(rounds=rounds)


@PROPERTY
@given(histories(), WINDOWS, st.sampled_from([12, 18]))
def test_earliest_silver_is_the_first_day_two_rounds_can_be_apart(history, validity, months):
    today, evidence = history
    earliest = esca.earliest_silver(evidence, today, months, validity)
    if earliest is None:
        return
    assert earliest >= today

    def met(extra_days) -> bool:
        added = tuple(bench(day) for day in extra_days)
        grown = ClusterEvidence(
            rounds=tuple(sorted(evidence.rounds + added, key=lambda r: r.held_on))
        )
        day = max(extra_days)
        return esca.two_rounds(grown, day, months, validity).verdict == Verdict.MET

    # reachable: with a benchmarking today (when it needs one) and one on the day
    assert met([today, earliest])
    if earliest > today:  # and not a day earlier
        assert not met([today, earliest - timedelta(days=1)])


@PROPERTY
@given(histories(), st.booleans())
def test_earliest_is_never_before_today_and_today_when_reachable_now(history, with_label):
    today, evidence = history
    if with_label and evidence.rounds:
        first = evidence.rounds[0].held_on
        label = LabelData("esca", "bronze", first, SCHEME.levels[0].expiry(evidence, first))
        evidence = ClusterEvidence(rounds=evidence.rounds, labels=(label,))
    for dates in scheme_calendar(SCHEME, evidence, today).levels:
        assert dates.earliest is None or dates.earliest >= today
        if dates.eligible:
            assert dates.earliest == today
        if dates.level.id == "silver" and dates.earliest is not None:
            valid = evidence.valid_rounds("esca-gold", today, ROUNDS)
            floor = add_months(valid[0].held_on, 12) if valid else add_months(today, 12)
            assert dates.eligible or dates.earliest >= min(floor, add_months(today, 12))


LEVELS = st.sampled_from(["bronze", "silver", "gold"])


@st.composite
def labelled(draw):
    """A history with labels held or lapsed, planned assessments and a plan's finish."""
    today, evidence = draw(histories())
    labels = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        awarded = today - timedelta(days=draw(st.integers(min_value=0, max_value=1000)))
        months = draw(st.sampled_from([12, 24, 36]))
        labels.append(LabelData("esca", draw(LEVELS), awarded, add_months(awarded, months)))
    planned = [
        PlannedData(
            "esca",
            draw(st.sampled_from(["benchmarking", "audit", "expert_review"])),
            today + timedelta(days=draw(st.integers(min_value=-30, max_value=900))),
            draw(st.sampled_from(["", "bronze", "silver", "gold"])),
        )
        for _ in range(draw(st.integers(min_value=0, max_value=2)))
    ]
    finish = draw(st.none() | st.just(today + timedelta(days=draw(st.integers(0, 900)))))
    return today, ClusterEvidence(evidence.rounds, tuple(labels)), planned, finish


@PROPERTY
@given(labelled(), st.integers(min_value=0, max_value=36))
def test_a_calendar_without_the_rules_finds_the_same_risks_of_held_labels(history, months):
    """The dashboard's lapsing panel and the risk page's "lapses" and "plan late" lists skip
    the rules (``evaluate=False``): they must find exactly what the full calendar finds."""
    today, evidence, planned, finish = history
    horizon = add_months(today, months)
    full = scheme_calendar(SCHEME, evidence, today, planned, finish)
    light = scheme_calendar(SCHEME, evidence, today, planned, finish, evaluate=False)

    def held_risks(calendar):
        return [
            (r.kind, r.dates.level.id, r.day, r.plan_finish, r.dates.renewal, r.dates.too_late)
            for r in risks(1, calendar, horizon)
            if r.kind != "can_apply"
        ]

    assert held_risks(light) == held_risks(full)
    assert not any(r.kind == "can_apply" for r in risks(1, light, horizon))
    assert not any(d.eligible or d.earliest for d in light.levels)
