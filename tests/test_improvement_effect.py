"""The effect of work on an indicator (portal.improvement.effect): hand-computed cases and
properties. Pure functions: no database, no app."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from portal.improvement.effect import (
    NO_DATA,
    NOT_OVER,
    OK,
    TOO_FEW,
    Effect,
    Window,
    effect,
    movements,
    window,
)

TODAY = date(2026, 6, 15)
SPAN = Window(date(2025, 1, 31), date(2025, 12, 31))
KEY = ("set", "1", "i1")


def test_the_window_of_work_done_is_its_start_and_due_date():
    span = window(date(2025, 2, 1), date(2025, 12, 31), "done", date(2025, 1, 10), None, TODAY)
    assert span == Window(date(2025, 1, 31), date(2025, 12, 31))


def test_work_still_running_is_not_over():
    span = window(date(2025, 2, 1), TODAY + timedelta(days=1), "in_progress", None, None, TODAY)
    assert span.after_day is None and not span.over


def test_work_past_its_due_date_is_measured_even_if_not_marked_done():
    span = window(None, date(2026, 1, 1), "in_progress", date(2025, 3, 1), None, TODAY)
    assert span == Window(date(2025, 3, 1), date(2026, 1, 1))


def test_done_work_without_a_due_date_ends_the_day_it_was_last_changed():
    span = window(None, None, "done", date(2025, 3, 1), date(2025, 9, 9), TODAY)
    assert span == Window(date(2025, 3, 1), date(2025, 9, 9))


def test_work_entered_after_the_fact_is_measured_from_its_entry():
    span = window(None, date(2024, 1, 1), "done", date(2025, 3, 1), None, TODAY)
    assert span == Window(date(2025, 3, 1), date(2025, 3, 1))


def test_one_cluster_against_five_others_hand_computed():
    before = {1: D("2"), 2: D("3"), 3: D("3"), 4: D("2"), 5: D("4"), 6: D("1")}
    after = {1: D("4"), 2: D("3"), 3: D("4"), 4: D("2"), 5: D("4"), 6: D("2")}
    found = effect("i1", SPAN, before, after, {1}, min_group=5, sees={1}.__contains__)
    assert found.reason == OK
    assert (found.worked.clusters, found.worked.before, found.worked.after) == (1, D(2), D(4))
    assert found.worked.change == D(2)
    assert found.others.clusters == 5
    assert found.others.before == D("2.6") and found.others.after == D("3")
    assert found.others.change == D("0.4")
    assert found.difference == D("1.6")


def test_a_viewer_who_may_not_see_the_cluster_learns_only_the_sizes():
    before = {c: D(c) for c in range(1, 8)}
    after = {c: D(c + 1) for c in range(1, 8)}
    found = effect("i1", SPAN, before, after, {1}, min_group=5, sees=lambda c: False)
    assert found.reason == TOO_FEW
    assert (found.worked.clusters, found.others.clusters) == (1, 6)
    assert found.worked.before is None and found.others.before is None
    assert found.difference is None


def test_too_few_others_hides_their_means_but_not_the_viewers_own_cluster():
    before, after = {1: D(1), 2: D(2), 3: D(3)}, {1: D(2), 2: D(2), 3: D(3)}
    found = effect("i1", SPAN, before, after, {1}, min_group=5, sees={1}.__contains__)
    assert found.reason == TOO_FEW
    assert found.worked.change == D(1)
    assert found.others.clusters == 2 and found.others.before is None


def test_a_coordinator_who_sees_every_cluster_sees_small_groups():
    before, after = {1: D(1), 2: D(2)}, {1: D(3), 2: D(2)}
    found = effect("i1", SPAN, before, after, {1}, min_group=5, sees=lambda c: True)
    assert found.reason == OK and found.difference == D(2)


def test_missing_rounds_leave_a_cluster_out_of_its_group():
    before = {1: D(1), 2: D(2), 3: D(3)}  # 3 has no round after
    after = {1: D(2), 2: D(4), 4: D(5)}  # 4 has no round before
    found = effect("i1", SPAN, before, after, {1}, min_group=1, sees=lambda c: True)
    assert found.others.clusters == 1 and found.others.change == D(2)


def test_no_round_of_the_cluster_that_did_the_work():
    found = effect("i1", SPAN, {2: D(1)}, {2: D(2)}, {1}, min_group=1, sees=lambda c: True)
    assert found.reason == NO_DATA and found.others.clusters == 1


def test_clusters_left_out_are_in_neither_group():
    before = {1: D(1), 2: D(1), 3: D(1)}
    after = {1: D(2), 2: D(5), 3: D(1)}
    found = effect("i1", SPAN, before, after, {1}, min_group=1, left_out={2}, sees=lambda c: True)
    assert found.others.clusters == 1 and found.others.change == D(0)


def test_work_not_over_reads_nothing():
    found = effect("i1", Window(date(2025, 1, 1), None), {1: D(1)}, {1: D(2)}, {1}, min_group=1)
    assert found.reason == NOT_OVER and found.worked.clusters == 0


def test_movements_count_per_indicator_and_respect_the_direction():
    better = Effect("i1", SPAN, *_groups(D(1), D(0)), OK)
    worse = Effect("i1", SPAN, *_groups(D(-1), D(0)), OK)
    running = Effect("i2", Window(SPAN.before_day, None), *_groups(None, None), NOT_OVER)
    k2 = ("set", "1", "i2")
    counted = movements(
        [
            (KEY, "done", better, True),
            (KEY, "done", worse, True),
            (k2, "in_progress", running, True),
            (KEY, "planned", None, False),
        ]
    )
    assert [(m.indicator_key, m.actions, m.done, m.measured, m.improved) for m in counted] == [
        (KEY, 3, 2, 2, 1),
        (k2, 1, 0, 0, 0),
    ]
    lower_better = movements([(KEY, "done", worse, False)])
    assert lower_better[0].improved == 1 and lower_better[0].worsened == 0


def _groups(ours, theirs):
    from portal.improvement.effect import Group

    return Group(1, D(0), ours, ours), Group(5, D(0), theirs, theirs)


values = st.dictionaries(
    st.integers(1, 12),
    st.decimals(min_value=0, max_value=5, places=1, allow_nan=False),
    max_size=12,
)


@given(values, values, st.sets(st.integers(1, 12), max_size=4), st.integers(1, 6))
def test_no_group_below_the_smallest_is_ever_shown_to_an_outsider(before, after, worked, min_g):
    found = effect("i1", SPAN, before, after, worked, min_group=min_g, sees=lambda c: False)
    for group in (found.worked, found.others):
        assert group.before is None or group.clusters >= min_g
    if found.others.shown:
        assert found.worked.shown  # the others' means never alone
    assert found.worked.clusters + found.others.clusters <= len(set(before) & set(after))


@given(values, values, st.sets(st.integers(1, 12), min_size=1, max_size=4))
def test_a_shown_change_is_the_difference_of_the_shown_means(before, after, worked):
    found = effect("i1", SPAN, before, after, worked, min_group=1, sees=lambda c: True)
    for group in (found.worked, found.others):
        if group.shown:
            assert abs(group.change - (group.after - group.before)) < D("1e-20")
