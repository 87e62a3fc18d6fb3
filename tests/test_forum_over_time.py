"""The forum over time (plugin ``compare``, kind "forum-over-time"): coordinated benchmarkings
found in the rounds, indicators moved between two of them, the work aimed at them and its
effect, for a coordinator and for an observer; the pure parts by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st
from portal_compare.forum_progress import Wave, median, moves, waves

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.plans import services as plans
from portal.tenancy import tenant_scope
from tests.conftest import count_queries, forget_kept, login
from tests.test_compare_pages import _bulk_clusters, _enter, _settings

FORUM = "/nordland/compare/forum"
SET, VERSION = "esca-gold", "2013"


# --- pure -----------------------------------------------------------------------------------


def test_a_wave_is_a_month_with_enough_clusters_and_neighbouring_months_join():
    rounds = [
        (1, date(2024, 3, 5)),
        (2, date(2024, 3, 20)),
        (3, date(2024, 4, 2)),  # the same benchmarking, over the month's end
        (3, date(2024, 4, 3)),
        (4, date(2024, 4, 9)),
        (1, date(2024, 9, 1)),  # one cluster alone: not coordinated
        (1, date(2025, 3, 1)),
        (2, date(2025, 3, 2)),
    ]
    assert waves(rounds, 2) == [
        Wave(date(2024, 3, 1), date(2024, 4, 9), 4),
        Wave(date(2025, 3, 1), date(2025, 3, 2), 2),
    ]
    assert waves(rounds, 3) == []


def test_median_of_exact_values():
    assert median([D(3), D(1), D(2)]) == D(2)
    assert median([D("2"), D("3"), D("2"), D("3")]) == D("2.5")


def test_moves_pair_the_clusters_and_follow_the_direction():
    before = {1: {"a": (D(2), "red"), "b": (D(5), "green")}, 2: {"a": (D(3), "yellow")}}
    after = {1: {"a": (D(4), "green"), "b": (D(3), "red")}, 2: {"a": (D(3), "yellow")}, 3: {}}
    found = moves([("a", True), ("b", False)], before, after, 1)
    assert found[0].clusters == 2 and found[0].direction == "improved"
    assert (found[0].before.median, found[0].after.median) == (D("2.5"), D("3.5"))
    assert found[0].before.lights == {"red": 1, "yellow": 1, "green": 0}
    assert found[1].clusters == 1 and found[1].direction == "improved"  # lower is better
    assert moves([("a", True)], before, after, 3)[0].direction == "hidden"


@given(
    st.dictionaries(st.integers(1, 9), st.decimals(0, 5, places=1), max_size=9),
    st.dictionaries(st.integers(1, 9), st.decimals(0, 5, places=1), max_size=9),
    st.integers(1, 5),
)
def test_a_move_is_never_shown_for_fewer_than_the_smallest_group(old, new, min_group):
    before = {c: {"a": (v, "red")} for c, v in old.items()}
    after = {c: {"a": (v, "green")} for c, v in new.items()}
    (found,) = moves([("a", True)], before, after, min_group)
    assert found.clusters == len(set(old) & set(new))
    assert (found.before is None) == (found.clusters < min_group or not found.clusters)


# --- the page -------------------------------------------------------------------------------


@pytest.fixture
def forum(app, world, factory):
    """Four clusters benchmarked in March 2024 and March 2025; c1 worked on engagement in
    between (2 -> 4), the others moved less (3 -> 3, 3 -> 4, 2 -> 2)."""
    factory.enable_plugin(world["a"], "esca")
    factory.enable_plugin(world["a"], "compare")
    c3 = factory.cluster(world["a"], "Coastal Food")
    c4 = factory.cluster(world["a"], "Dune Energy")
    ids = [world["c1"].id, world["c2"].id, c3.id, c4.id]
    with app.test_request_context(), tenant_scope(world["a"].id):
        for cluster_id, old, new in zip(ids, (2, 3, 3, 2), (4, 3, 4, 2), strict=True):
            _enter(cluster_id, date(2024, 3, 4), 3, engagement=old)
            _enter(cluster_id, date(2025, 3, 4), 3, engagement=new)
        cluster = db.session.get(Cluster, world["c1"].id)
        plan = plans.create_plan(
            None,
            {
                "title": "Toward silver",
                "start_date": date(2024, 4, 1),
                "end_date": date(2025, 1, 1),
            },
            tenant_id=world["a"].id,
            cluster=cluster,
        )
        plans.create_action(
            None,
            plan,
            {
                "title": "Member meetings every month",
                "status": "done",
                "start_date": date(2024, 4, 1),
                "due_date": date(2024, 12, 31),
            },
            indicator_keys=[(SET, VERSION, "engagement")],
        )
    _settings(app, world["a"].id, min_group=2)
    return world


def test_the_coordinator_sees_what_moved_the_work_and_its_effect(app, forum):
    client = app.test_client()
    login(client, "coord@a.example")
    page = client.get(FORUM).get_data(as_text=True)
    assert 'id="kind-forum-over-time"' in page
    assert "2 of 31 indicators improved" not in page  # only engagement moved
    assert "1 of 31 indicators improved" in page
    assert "Member meetings every month" in page
    assert "Its cluster: 2 → 4." in page
    assert "The 3 other clusters:" in page


def test_an_observer_sees_the_forum_but_never_one_clusters_values(app, forum):
    client = app.test_client()
    login(client, "observer@a.example")
    page = client.get(FORUM).get_data(as_text=True)
    assert "1 of 31 indicators improved" in page
    assert "Member meetings every month" in page
    assert "Its cluster: 2 → 4." not in page
    assert "groups smaller than 2 are not shown to you" in page


def test_the_funders_report_and_the_workbook_carry_it(app, forum):
    client = app.test_client()
    login(client, "observer@a.example")
    report = client.get(f"{FORUM}/report").get_data(as_text=True)
    assert "1 of 31 indicators improved" in report and "Member meetings every month" in report
    book = client.get(f"{FORUM}/comparisons.xlsx")
    assert book.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    titles = load_workbook(BytesIO(book.data)).sheetnames
    assert "Forum 2024-03-01 to 2025-03-01" in titles


def test_an_odd_choice_of_waves_falls_back_to_the_newest_two(app, forum):
    client = app.test_client()
    login(client, "coord@a.example")
    answer = client.get(f"{FORUM}?from_wave=2099-01-01&to_wave=nonsense")
    assert answer.status_code == 200
    assert "1 of 31 indicators improved" in answer.get_data(as_text=True)


def _second_try(app, forum) -> None:
    """Another done action on engagement between the two waves."""
    with app.test_request_context(), tenant_scope(forum["a"].id):
        plans.create_action(
            None,
            db.session.query(plans.Plan).one(),
            {
                "title": "A second try",
                "status": "done",
                "start_date": date(2024, 5, 1),
                "due_date": date(2024, 10, 1),
            },
            indicator_keys=[(SET, VERSION, "engagement")],
        )


def test_a_new_linked_action_shows_at_once(app, forum):
    client = app.test_client()
    login(client, "coord@a.example")
    first = client.get(FORUM)
    _second_try(app, forum)
    again = client.get(FORUM, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "A second try" in again.get_data(as_text=True)


def test_the_forum_page_reads_as_many_queries_with_more_clusters(app, forum):
    client = app.test_client()
    login(client, "coord@a.example")
    url = f"{FORUM}?from_wave=2024-03-01&to_wave=2025-03-01"
    client.get(url)
    forget_kept(app)
    with count_queries(app) as small:
        assert "Member meetings every month" in client.get(url).get_data(as_text=True)
    _bulk_clusters(app, forum["a"].id, 40)  # benchmarked in May 2025: a third wave
    client.get(url)  # the forum's statistics are kept once worked out (portal_compare)
    forget_kept(app)
    with count_queries(app) as large:
        assert "Member meetings every month" in client.get(url).get_data(as_text=True)
    assert len(large) == len(small)


def test_what_moved_is_kept_through_an_actions_write_and_renewed_by_a_round(
    app, forum, monkeypatch
):
    """The forum's moves come from the rounds alone: worked out once, kept (and shared)
    until a round or a cluster changes, while the work shown beside them is read afresh."""
    import portal_compare.forum_over_time as over_time

    calls = []
    real = over_time.moves
    monkeypatch.setattr(over_time, "moves", lambda *a: calls.append(1) or real(*a))
    client = app.test_client()
    login(client, "coord@a.example")
    assert "1 of 31 indicators improved" in client.get(FORUM).get_data(as_text=True)
    assert len(calls) == 1
    _second_try(app, forum)
    page = client.get(FORUM).get_data(as_text=True)
    assert "A second try" in page and "1 of 31 indicators improved" in page
    assert len(calls) == 1  # kept through the action's write
    with app.test_request_context(), tenant_scope(forum["a"].id):
        # The 2025 results of c1 (4) and Coastal Food (4) corrected to 2 and 3: the same
        # rounds and waves, the values of 2024 again.
        from portal.benchmarking import services as rounds
        from portal.benchmarking.models import BenchmarkRound

        indicator_set = rounds.find_set(SET, VERSION)
        for name, engagement in (("Arctic Minerals", 2.0), ("Coastal Food", 3.0)):
            newest = (
                db.session.query(BenchmarkRound)
                .join(Cluster)
                .filter(Cluster.name == name, BenchmarkRound.held_on == date(2025, 3, 4))
                .one()
            )
            values = {i.id: (3.0, "") for i in indicator_set.indicators}
            values["engagement"] = (engagement, "")
            data = {"reason": "A typo", "held_on": date(2025, 3, 4)}
            rounds.correct_round(None, newest, indicator_set, data, values)
    page = client.get(FORUM).get_data(as_text=True)
    assert len(calls) == 2
    assert "0 of 31 indicators improved" in page


def test_the_scorecard_is_kept_through_progress_and_comments_and_renewed_by_the_work(app, forum):
    """The scorecard keys on the region's own rows, the work and the plans: a progress
    update or a comment keeps it, a change of status renews it; kept or renewed, it is what
    an uncached render shows."""
    from portal.plans.models import Action
    from tests.test_cache_scopes import TOKEN
    from tests.test_page_fragments import _uncached

    client = app.test_client()
    login(client, "coord@a.example")

    def answer():
        kept = client.get(FORUM)
        assert TOKEN.sub(b"", kept.data) == TOKEN.sub(b"", _uncached(app, client, FORUM))
        return kept.headers.get("X-Page-Cache"), kept.get_data(as_text=True)

    client.get(FORUM)  # the first visit may set session values: not kept
    client.get(FORUM)
    assert answer()[0] == "hit"
    with app.test_request_context(), tenant_scope(forum["a"].id):
        action = db.session.scalars(db.select(Action)).one()
        action_id = action.id
        action.progress = 40
        db.session.commit()
    assert answer()[0] == "hit"
    posted = client.post(
        f"/nordland/actions/{action_id}/comments",
        data={"body": "On track"},
        follow_redirects=True,  # the action's page shows the flash message
    )
    assert "On track" in posted.get_data(as_text=True)
    assert answer()[0] == "hit"
    with app.test_request_context(), tenant_scope(forum["a"].id):
        db.session.get(Action, action_id).title = "Member meetings every quarter"
        db.session.commit()
    renewed, page = answer()
    assert renewed is None and "Member meetings every quarter" in page
