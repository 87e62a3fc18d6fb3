"""The measured baseline of effort (portal.improvement.effort): hand-computed cases and
properties, without the database."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from portal.improvement.effort import (
    NONE,
    PUBLISHED,
    REGION,
    Published,
    SpentAction,
    Tally,
    baseline,
    costs,
    tally,
)

A = ("esca-gold", "2013", "communication")
B = ("esca-gold", "2013", "services")
C = ("esca-gold", "2013", "engagement")
d = Decimal


def act(i, clusters, money=None, hours=None, status="done", keys=(A,)):
    return SpentAction(i, frozenset(clusters), status, money, hours, frozenset(keys))


def test_per_cluster_per_action_by_hand():
    actions = [
        act(1, {10}, money=d(1000)),
        act(2, {11}, money=d(3000)),
        act(3, {12, 13}, money=d(2000)),  # shared by two: 1000 each
    ]
    found = tally(actions, [A], "money")
    assert (found.actions, found.clusters, found.pairs, found.total) == (3, 4, 4, d(6000))
    assert found.per_cluster == d(1500)  # (1000 + 3000 + 1000 + 1000) / 4
    assert costs(actions, [A], "money")[-2:] == [(3, 12, d(1000)), (3, 13, d(1000))]


def test_running_actions_and_actions_without_a_spent_figure_do_not_count():
    actions = [
        act(1, {10}, money=d(800)),
        act(2, {11}, money=d(5000), status="in_progress"),  # still running
        act(3, {12}, money=None, hours=d(40)),  # no money spent figure: hours only
        act(4, {13}, money=d(100), status="cancelled"),
        act(5, set(), money=d(999)),  # nobody's: no cluster to count it for
    ]
    money, hours = tally(actions, [A], "money"), tally(actions, [A], "hours")
    assert (money.actions, money.per_cluster) == (1, d(800))
    assert (hours.actions, hours.clusters, hours.per_cluster) == (1, 1, d(40))


def test_mixed_units_never_mix():
    actions = [act(1, {10}, money=d(1000), hours=d(10)), act(2, {11}, hours=d(30))]
    assert tally(actions, [A], "money").per_cluster == d(1000)
    assert tally(actions, [A], "hours").per_cluster == d(20)


def test_an_action_on_two_of_the_indicators_counts_once_and_others_not_at_all():
    actions = [act(1, {10}, money=d(600), keys=(A, B)), act(2, {11}, money=d(50), keys=(C,))]
    found = tally(actions, [A, B], "money")
    assert (found.actions, found.pairs, found.total) == (1, 1, d(600))
    assert tally(actions, [C], "money").per_cluster == d(50)
    assert tally(actions, [], "money") == Tally()


def test_no_spent_figures_no_baseline():
    found = tally([act(1, {10}), act(2, {11}, status="planned")], [A], "money")
    assert found.per_cluster is None
    result = baseline("money", found, min_group=1)
    assert result.basis == NONE and result.per_cluster is None


def test_too_few_clusters_in_the_region_fall_back_unless_the_viewer_sees_each():
    own = tally([act(1, {10}, money=d(100)), act(2, {11}, money=d(300))], [A], "money")
    assert baseline("money", own, keys=[A], min_group=3).basis == NONE
    assert baseline("money", own, keys=[A], min_group=2).basis == REGION
    seen = baseline("money", own, keys=[A], min_group=3, sees=lambda c: True)
    assert (seen.basis, seen.per_cluster) == (REGION, d(200))
    partly = baseline("money", own, keys=[A], min_group=3, sees=lambda c: c == 10)
    assert partly.basis == NONE


def test_published_regions_count_only_as_groups_large_enough():
    own = tally([act(1, {10}, money=d(100)), act(2, {11}, money=d(300))], [A], "money")
    big = Published(7, A, Tally(4, 5, 5, d(5000), 1), 5)
    small = Published(8, A, Tally(2, 2, 2, d(200), 1), 2)  # its own smallest group: 2
    shy = Published(9, A, Tally(3, 3, 3, d(90000), 1), 5)  # below its own smallest group
    elsewhere = Published(7, C, Tally(9, 9, 9, d(90000), 1), 5)  # another indicator
    result = baseline("money", own, [big, shy, elsewhere], keys=[A], min_group=2)
    assert result.basis == PUBLISHED
    assert (result.tally.actions, result.tally.clusters, result.tally.pairs) == (6, 7, 7)
    assert result.tally.total == d(5400) and result.tally.regions == 1
    assert result.per_cluster == d(5400) / 7
    # the reader's smallest group holds for another region's aggregate too
    assert baseline("money", NOTHING_OWN, [small], keys=[A], min_group=3).basis == NONE
    both = baseline("money", NOTHING_OWN, [big, small], keys=[A], min_group=2)
    assert both.tally.regions == 2 and both.tally.clusters == 7
    assert both.per_cluster == d(5200) / 7
    # the region's own figures, too few to count, are not mixed into the published ones
    alone = baseline("money", own, [big], keys=[A], min_group=3)
    assert (alone.basis, alone.tally.clusters, alone.per_cluster) == (PUBLISHED, 5, d(1000))


NOTHING_OWN = Tally()

money = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)
spent_actions = st.lists(
    st.builds(
        act,
        st.integers(0, 30),
        st.frozensets(st.integers(1, 8), max_size=3),
        st.one_of(st.none(), money),
        st.one_of(st.none(), money),
        st.sampled_from(["done", "in_progress", "planned", "cancelled"]),
        st.frozensets(st.sampled_from([A, B, C]), min_size=1),
    ),
    max_size=25,
    unique_by=lambda action: action.id,  # one action has one status and one cost
)


@given(spent_actions, st.sampled_from(["money", "hours"]))
def test_the_baseline_is_a_mean_between_the_smallest_and_largest_share(actions, unit):
    pairs = costs(actions, [A, B], unit)
    found = tally(actions, [A, B], unit)
    assert found.pairs == len(pairs)
    # the shares of an action add up to what it cost (to the last of 28 digits)
    assert abs(found.total - sum((x for _a, _c, x in pairs), Decimal(0))) < Decimal("1e-15")
    if pairs:
        shares = [x for _a, _c, x in pairs]
        assert min(shares) <= found.per_cluster <= max(shares)
        assert found.clusters <= found.pairs and found.actions <= found.pairs
    else:
        assert found.per_cluster is None


@given(spent_actions)
def test_running_work_never_changes_the_baseline(actions):
    done = [a for a in actions if a.status == "done"]
    assert tally(actions, [A], "money") == tally(done, [A], "money")


@given(spent_actions, st.integers(1, 10))
def test_a_shown_baseline_covers_the_smallest_group(actions, min_group):
    found = baseline("hours", tally(actions, [A, C], "hours"), keys=[A, C], min_group=min_group)
    if found.basis != NONE:
        assert found.tally.clusters >= min_group
