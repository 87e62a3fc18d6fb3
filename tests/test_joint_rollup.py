"""Roll-ups, effort saved and effect of joint actions: the edge cases, without the web."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from portal_joint.rollup import (
    action_progress,
    effort,
    programme_effort,
    programme_progress,
)

from portal.toolkit import Window, effect


def part(
    i, progress=0, status="in_progress", left_on=None, spent=0, solo=None, hours=0, solo_h=None
):
    return SimpleNamespace(
        id=i,
        progress=progress,
        status=status,
        left_on=left_on,
        money_spent=Decimal(spent),
        solo_money=None if solo is None else Decimal(solo),
        hours_spent=Decimal(hours),
        solo_hours=None if solo_h is None else Decimal(solo_h),
    )


def action(*parts, status="in_progress", budget=None, budget_h=None):
    return SimpleNamespace(
        parts=list(parts),
        status=status,
        budget_money=None if budget is None else Decimal(budget),
        budget_hours=None if budget_h is None else Decimal(budget_h),
    )


def test_progress_averages_the_clusters_taking_part_now():
    a = action(part(1, 20), part(2, 60), part(3, 100, left_on=date(2026, 1, 1)))
    assert action_progress(a).value == 40 and action_progress(a).counted == 2
    assert action_progress(action(part(1, 30, status="done"), part(2, 50))).value == 75


def test_progress_without_participants_done_and_cancelled():
    assert action_progress(action()).value == 0 and action_progress(action()).basis == "nobody"
    assert action_progress(action(part(1, 10), status="done")).value == 100
    assert action_progress(action(part(1, 10), status="cancelled")).value is None
    everyone_left = action(part(1, 80, left_on=date(2026, 1, 1)))
    assert action_progress(everyone_left).basis == "nobody"


def test_programme_progress_skips_cancelled_actions():
    actions = [action(part(1, 50)), action(status="done"), action(part(2, 90), status="cancelled")]
    assert programme_progress(actions).value == 75 and programme_progress(actions).counted == 2
    assert programme_progress([]).value is None
    assert programme_progress([action(status="cancelled")]).basis == "no_actions"


def test_effort_saved_compares_estimators_with_what_they_spent():
    a = action(
        part(1, spent=1000, solo=5000, status="done"),
        part(2, spent=1500, solo=0, status="done"),
        part(3, spent=500),
    )
    money = effort(a, "money")
    assert money.basis == "spent" and money.together == 3000
    assert (money.estimated, money.missing, money.pending) == (2, 1, 0)
    assert money.alone == 5000 and money.together_of_estimators == 2500
    assert money.saved == 2500  # a zero estimate counts, the missing one does not


def test_an_estimate_counts_once_the_part_is_done():
    unfinished = action(part(1, spent=100, solo=900), part(2, spent=300, solo=500, status="done"))
    money = effort(unfinished, "money")
    assert (money.estimated, money.pending, money.missing) == (1, 1, 0)
    assert money.saved == 200  # only the finished part: 500 - 300
    finished = effort(action(*unfinished.parts, status="done"), "money")
    assert finished.pending == 0 and finished.saved == 1000


def test_effort_with_nothing_spent_uses_the_budget_share():
    a = action(part(1, solo=4000), part(2, solo=3000), part(3), budget=3000)
    money = effort(a, "money")
    assert money.basis == "budget" and money.together == 3000
    assert money.together_of_estimators == 2000 and money.saved == 5000


def test_effort_without_participants_or_estimates():
    assert effort(action(budget=1000), "money").basis == "none"
    assert effort(action(budget=1000), "money").saved is None
    nobody_estimated = effort(action(part(1, spent=10), part(2, spent=20)), "money")
    assert nobody_estimated.saved is None and nobody_estimated.together == 30


def test_a_cluster_that_left_still_counts_what_it_spent():
    a = action(
        part(1, spent=100, solo=400, left_on=date(2026, 2, 1)),
        part(2, spent=300, solo=300),
        status="done",
    )
    assert effort(a, "money").together == 400 and effort(a, "money").saved == 300


def test_hours_and_programme_sum():
    a = action(part(1, hours=10, solo_h=40), status="done")
    b = action(part(2, hours=5, solo_h=5, status="done"), part(3, hours=5))
    c = action(part(4, hours=100, solo_h=1), status="cancelled")
    total = programme_effort([a, b, c], "hours")
    assert total.together == 20 and total.alone == 45 and total.saved == 30
    assert (total.estimated, total.participants) == (2, 3)


def test_effect_needs_two_clusters_with_before_and_after_in_each_group():
    """The joint actions' effect is the core's (toolkit.effect): exact decimals."""
    d = Decimal
    span = Window(date(2025, 1, 1), date(2025, 12, 31))
    before = {1: d(2), 2: d(3), 3: d(2), 4: d(3), 5: d(4)}
    after = {1: d(4), 2: d(4), 3: d(2), 4: d(3)}
    result = effect("engagement", span, before, after, {1, 2}, min_group=2)
    assert result.enough and result.reason == "ok"
    assert result.worked.clusters == 2 and result.worked.change == d("1.5")
    assert result.others.clusters == 2 and result.others.change == 0  # 5 has no "after"
    thin = effect("engagement", span, before, after, {1}, min_group=2)
    assert not thin.enough and thin.reason == "too_few" and thin.worked.clusters == 1
    early = effect("engagement", Window(date(2025, 1, 1), None), before, after, {1, 2}, min_group=2)
    assert early.reason == "not_over" and early.worked.clusters == 0
    # Nobody that did the work has both rounds: the core says "no data" (it said "too few").
    empty = effect(
        "engagement", Window(date(2025, 1, 1), date(2025, 6, 1)), {}, {}, {1, 2}, min_group=2
    )
    assert empty.worked.before is None and empty.reason == "no_data" and not empty.enough
    # Below the region's smallest group only the sizes are told: a mean of few clusters
    # would tell their values.
    private = effect("engagement", span, before, after, {1, 2}, min_group=3)
    assert private.reason == "too_few" and private.worked.clusters == 2
    assert (private.worked.before, private.worked.after) == (None, None)
    assert private.others.change is None and private.others.clusters == 2


# --- effort saved against the measured baseline (the core's portal.improvement.effort) -----


def test_effort_saved_against_the_measured_baseline_before_the_estimates():
    from portal.improvement.effort import NONE, REGION, Baseline, Tally

    measured = Baseline("money", REGION, Tally(3, 3, 3, Decimal(6000)))  # 2000 per cluster
    a = action(
        part(1, spent=1000, solo=9000, status="done"),
        part(2, spent=1500, status="done"),
        part(3, spent=500),  # not done: counts once it is
    )
    money = effort(a, "money", measured)
    assert (money.source, money.measured.actions) == ("region", 3)
    assert (money.estimated, money.pending, money.missing) == (2, 1, 0)
    assert money.alone == 4000 and money.together_of_estimators == 2500
    assert money.saved == 1500  # the estimate of 9000 is not used: a baseline exists
    # no baseline: the clusters' estimates, as before
    fallback = effort(a, "money", Baseline("money", NONE))
    assert (fallback.source, fallback.alone, fallback.saved) == ("estimates", 9000, 8000)
    assert effort(action(part(1, spent=10)), "money").source == "none"


def test_the_baseline_with_nothing_spent_uses_the_budget_and_programmes_say_mixed():
    from portal.improvement.effort import PUBLISHED, Baseline, Tally

    measured = Baseline("hours", PUBLISHED, Tally(10, 8, 10, Decimal(400), 2))  # 40 each
    planned = action(part(1), part(2), budget_h=50)
    planned.id = 1
    hours = effort(planned, "hours", measured)
    assert (hours.basis, hours.source) == ("budget", "published")
    assert hours.alone == 80 and hours.together_of_estimators == 50 and hours.saved == 30
    guessed = action(part(3, hours=5, solo_h=20, status="done"), status="done")
    guessed.id = 2
    total = programme_effort([planned, guessed], "hours", {1: {"hours": measured}})
    assert total.source == "mixed" and (total.count("published"), total.count("estimates")) == (
        1,
        1,
    )
    assert total.alone == 100 and total.saved == 45
