"""The plugins' JSON API: joint actions and contributions (portal_joint), the forum's
aggregates (portal_compare). Each operation per role, filters and order, If-Match on a
contribution, the privacy policy on effects and aggregates, fixed query counts at two data
sizes, the operations in the OpenAPI document and Schemathesis over them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.api_support import bearer, make_token, role_headers
from tests.conftest import ROLE_EMAILS, count_queries
from tests.process_support import build_process

API = "/api/v1/nordland"
JOINT = f"{API}/joint"
FORUM = f"{API}/compare/forum"
ROLES = tuple(ROLE_EMAILS)


@pytest.fixture
def joint(app, world, factory):
    """Two joint actions of the programme: "Shared press list" (c1 and c2 take part, due
    soon, linked to an indicator) and "Trade fair" (c1 alone, done)."""
    from portal_joint import services

    from portal.clusters.models import Cluster
    from portal.programmes.models import Programme

    for plugin in ("joint", "compare", "esca"):
        factory.enable_plugin(world["a"], plugin)
    process = build_process(app, world)
    today = date.today()
    with app.test_request_context(), tenant_scope(world["a"].id):
        programme = db.session.get(Programme, process.programme_id)
        c1, c2 = (db.session.get(Cluster, world[k].id) for k in ("c1", "c2"))
        press = services.create_action(
            None,
            programme,
            {"title": "Shared press list", "due_date": today + timedelta(days=30)},
            clusters=[c1.id, c2.id],
            indicators=[("esca-gold", "2013", "engagement")],
        )
        fair = services.create_action(
            None, programme, {"title": "Trade fair", "due_date": today - timedelta(days=5)}
        )
        services.join(None, fair, c1)
        services.move(None, fair, "done")
        parts = {p.cluster_id: p.id for p in press.parts}
        ids = {"press": press.id, "fair": fair.id, "programme": programme.id}
    return {**ids, "c1_part": parts[world["c1"].id], "c2_part": parts[world["c2"].id]}


@pytest.fixture
def tokens(app, world, joint):
    return role_headers(app)


# --- joint actions -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_joint_actions(client, world, joint, tokens, role):
    listed = client.get(f"{JOINT}/actions", headers=tokens[role])
    assert listed.status_code == 200, listed.json
    assert [a["title"] for a in listed.json["items"]] == ["Trade fair", "Shared press list"]
    fair, press = listed.json["items"]
    assert fair["status"] == "done" and fair["progress"] == {
        "value": 100,
        "basis": "done",
        "counted": 1,
    }
    assert press["participants"] == 2 and press["overdue"] is False
    assert press["indicators"] == [
        {"indicator_set": "esca-gold", "set_version": "2013", "indicator_id": "engagement"}
    ]
    one = client.get(f"{JOINT}/actions/{joint['press']}", headers=tokens[role])
    assert one.status_code == 200 and one.headers["ETag"]
    assert one.json["effects"][0]["reason"] == "not_over"
    assert one.json["effort_money"]["basis"] == "none"
    parts = client.get(f"{JOINT}/actions/{joint['press']}/contributions", headers=tokens[role])
    assert [p["cluster_name"] for p in parts.json["items"]] == [
        "Arctic Minerals",
        "Helgeland Health",
    ]


def test_the_list_filters_and_sorts_like_the_board(client, world, joint, tokens):
    headers = tokens["observer"]

    def titles(query: str) -> list[str]:
        answer = client.get(f"{JOINT}/actions?{query}", headers=headers)
        assert answer.status_code == 200, (query, answer.json)
        return [a["title"] for a in answer.json["items"]]

    assert titles(f"programme_id={joint['programme']}") == ["Trade fair", "Shared press list"]
    assert titles("programme_id=999999") == []
    assert titles("status=done") == ["Trade fair"]
    assert titles("status=in_progress") == []
    assert titles(f"cluster_id={world['c2'].id}") == ["Shared press list"]
    assert titles("q=PRESS") == ["Shared press list"]
    assert titles("q=%25") == []  # a wildcard is a character here
    assert titles("sort=-due") == ["Shared press list", "Trade fair"]
    assert titles("sort=title") == ["Shared press list", "Trade fair"]
    assert titles("per_page=1&page=2") == ["Shared press list"]
    bad = client.get(f"{JOINT}/actions?status=lost&sort=size", headers=headers)
    assert bad.status_code == 422
    assert bad.headers["Content-Type"] == "application/problem+json"


def test_an_unknown_or_other_regions_joint_action_is_404(app, client, world, joint, tokens):
    for url in (
        f"{JOINT}/actions/987654",
        f"{JOINT}/actions/987654/contributions",
        f"{JOINT}/contributions/987654",
    ):
        assert client.get(url, headers=tokens["coordinator"]).status_code == 404, url


def test_the_plugin_switched_off_answers_404(app, client, world, joint, factory, tokens):
    factory.enable_plugin(world["a"], "joint", enabled=False)
    assert client.get(f"{JOINT}/actions", headers=tokens["coordinator"]).status_code == 404
    factory.enable_plugin(world["a"], "compare", enabled=False)
    assert client.get(FORUM, headers=tokens["coordinator"]).status_code == 404


# --- contributions -----------------------------------------------------------------------------


def test_a_contribution_changes_under_if_match(client, world, joint, tokens):
    url = f"{JOINT}/contributions/{joint['c1_part']}"
    manager = tokens["cluster_manager"]  # c1's manager
    read = client.get(url, headers=manager)
    assert read.status_code == 200 and read.json["hours_spent"] == "0.0"
    body = {"status": "in_progress", "progress": 40, "hours_spent": "12.5", "solo_hours": "30"}
    assert client.patch(url, json=body, headers=manager).status_code == 428
    changed = client.patch(url, json=body, headers={**manager, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200, changed.json
    assert changed.json["progress"] == 40 and changed.json["hours_spent"] == "12.5"
    assert changed.json["solo_hours"] == "30.0"
    assert changed.json["version"] == read.json["version"] + 1
    assert changed.headers["ETag"] != read.headers["ETag"]
    stale = client.patch(
        url, json={"progress": 50}, headers={**manager, "If-Match": read.headers["ETag"]}
    )
    assert stale.status_code == 412
    again = client.get(url, headers=manager)
    assert again.json["progress"] == 40  # the stale write changed nothing
    # The joint action's figures move with it, as on its page.
    action = client.get(f"{JOINT}/actions/{joint['press']}", headers=manager).json
    assert action["progress"]["value"] == 20


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"progress": 101}, "progress"),
        ({"hours_spent": "-1"}, "hours_spent"),
        ({"money_spent": "1000000000"}, "money_spent"),
        ({"owner_id": 2**31 - 1}, "owner_id"),
    ],
)
def test_bad_values_are_refused_by_the_service_and_write_nothing(
    client, world, joint, tokens, body, field
):
    url = f"{JOINT}/contributions/{joint['c1_part']}"
    headers = tokens["coordinator"]
    read = client.get(url, headers=headers)
    answer = client.patch(url, json=body, headers={**headers, "If-Match": read.headers["ETag"]})
    assert answer.status_code == 422, answer.json
    assert field in answer.json["errors"]
    assert client.get(url, headers=headers).json == read.json


def test_who_may_change_a_contribution(client, world, joint, tokens):
    url = f"{JOINT}/contributions/{joint['c2_part']}"  # c2's: not the cluster manager's
    for role, status in (
        ("cluster_manager", 403),
        ("observer", 403),
        ("assessor", 403),
        ("coordinator", 200),
    ):
        read = client.get(url, headers=tokens[role])
        answer = client.patch(
            url, json={"tasks": role}, headers={**tokens[role], "If-Match": read.headers["ETag"]}
        )
        assert answer.status_code == status, (role, answer.json)


def test_a_read_token_changes_nothing(app, client, world, joint):
    url = f"{JOINT}/contributions/{joint['c1_part']}"
    headers = bearer(make_token(app, "coord@a.example", "nordland", scopes=("read",)))
    read = client.get(url, headers=headers)
    answer = client.patch(url, json={"progress": 5}, headers={**headers, "If-Match": "*"})
    assert answer.status_code == 403
    assert client.get(url, headers=headers).json == read.json


def test_a_cluster_takes_part_as_the_page_allows(client, world, joint, tokens):
    url = f"{JOINT}/actions/{joint['fair']}/contributions"
    press = f"{JOINT}/actions/{joint['press']}/contributions"
    c1, c2 = world["c1"].id, world["c2"].id
    # The fair is done: closed to newcomers.
    closed = client.post(url, json={"cluster_id": c2}, headers=tokens["coordinator"])
    assert closed.status_code == 422
    assert (
        client.post(press, json={"cluster_id": c1}, headers=tokens["coordinator"])
        .json["detail"]
        .endswith("takes part already.")
    )
    left = client.post(press, json={"cluster_id": 987654}, headers=tokens["coordinator"])
    assert left.status_code == 422 and "cluster_id" in left.json["errors"]
    for role in ("observer", "assessor", "member"):
        assert client.post(press, json={"cluster_id": c1}, headers=tokens[role]).status_code == 403


def test_a_cluster_that_left_joins_again(app, client, world, joint, tokens):
    from portal_joint import services
    from portal_joint.models import Participation

    with app.test_request_context(), tenant_scope(world["a"].id):
        services.leave(None, db.session.get(Participation, joint["c1_part"]))
    url = f"{JOINT}/actions/{joint['press']}/contributions"
    made = client.post(url, json={"cluster_id": world["c1"].id}, headers=tokens["cluster_manager"])
    assert made.status_code == 201, made.json
    assert made.json["id"] == joint["c1_part"] and made.json["left_on"] is None
    assert made.headers["Location"].endswith(f"/joint/contributions/{joint['c1_part']}")
    assert made.headers["ETag"]
    other = client.post(url, json={"cluster_id": world["c2"].id}, headers=tokens["cluster_manager"])
    assert other.status_code == 403  # not the manager's cluster


# --- privacy -----------------------------------------------------------------------------------


def test_an_effect_of_one_cluster_is_hidden_from_the_others(app, client, world, joint, tokens):
    """c2 alone worked on the done press list, with rounds before and after: only those who
    may see c2's values learn its change (a group of one)."""
    from portal_joint import services

    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster
    from portal.programmes.models import Programme

    today = date.today()
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = services.create_action(
            None,
            db.session.get(Programme, joint["programme"]),
            {
                "title": "Alone",
                "start_date": today - timedelta(days=200),
                "due_date": today - timedelta(days=100),
            },
            indicators=[("esca-gold", "2013", "engagement")],
        )
        services.join(
            None, action, db.session.get(Cluster, world["c2"].id), on=today - timedelta(200)
        )
        services.move(None, action, "done")
        action_id = action.id
        indicator_set = rounds.find_set("esca-gold", "2013")
        for key, value in (("c1", 2.0), ("c2", 1.0)):
            cluster = db.session.get(Cluster, world[key].id)
            for days, step in ((300, 0), (50, 2)):
                values = {i.id: (value + step, "") for i in indicator_set.indicators}
                data = {"held_on": today - timedelta(days=days)}
                rounds.save_round(None, cluster, indicator_set, data, values)
    url = f"{JOINT}/actions/{action_id}"
    seen = {role: client.get(url, headers=tokens[role]).json["effects"][0] for role in ROLES}
    for role in ("coordinator", "member", "assessor"):  # member: c2's own
        assert seen[role]["participants"]["before"] == "1", role
        assert seen[role]["participants"]["change"] == "2", role
    for role in ("cluster_manager", "observer"):
        assert seen[role]["participants"] == {
            "clusters": 1,
            "before": None,
            "after": None,
            "change": None,
        }, role
        assert seen[role]["difference"] is None and seen[role]["reason"] == "too_few"


def _forum_rounds(app, world, values: dict[str, float]) -> None:
    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster

    with app.test_request_context(), tenant_scope(world["a"].id):
        indicator_set = rounds.find_set("esca-gold", "2013")
        for key, value in values.items():
            cluster = db.session.get(Cluster, world[key].id)
            data = {"held_on": date.today() - timedelta(days=20)}
            rounds.save_round(
                None,
                cluster,
                indicator_set,
                data,
                {i.id: (value, "") for i in indicator_set.indicators},
            )


@pytest.mark.parametrize("role", ROLES)
def test_the_forums_aggregates_obey_the_smallest_group(app, client, world, joint, tokens, role):
    """Two clusters benchmarked: below the region's smallest group, so every aggregate is
    null for everyone, coordinators too (as on the forum's page)."""
    _forum_rounds(app, world, {"c1": 2.0, "c2": 3.0})
    answer = client.get(f"{FORUM}?set=esca-gold&version=2013", headers=tokens[role])
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["clusters"] == 2 and body["suppressed"] is True and body["min_group"] > 2
    assert body["indicators"] and all(i["summary"] is None for i in body["indicators"])
    assert "2.5" not in answer.get_data(as_text=True)  # no median of two
    assert body["strengths"] == [] and body["weaknesses"] == []


def test_the_forums_aggregates_at_the_smallest_group(app, client, world, joint, tokens, factory):
    ids = {f"x{n}": factory.cluster(world["a"], f"Extra {n}", members=1).id for n in range(3)}
    _forum_rounds_ids(app, world, ids)
    answer = client.get(FORUM, headers=tokens["observer"])
    body = answer.json
    assert body["clusters"] == 5 and body["suppressed"] is False
    summary = body["indicators"][0]["summary"]
    assert summary["count"] == 5 and summary["median"] == 2.0
    assert set(summary["shares"]) == {"red", "yellow", "green"}
    unknown = client.get(f"{FORUM}?set=nope", headers=tokens["observer"])
    assert unknown.status_code == 422 and "set" in unknown.json["errors"]


def _forum_rounds_ids(app, world, extra: dict[str, int]) -> None:
    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster

    with app.test_request_context(), tenant_scope(world["a"].id):
        indicator_set = rounds.find_set("esca-gold", "2013")
        ids = [world["c1"].id, world["c2"].id, *extra.values()]
        for n, cluster_id in enumerate(ids):
            cluster = db.session.get(Cluster, cluster_id)
            values = {i.id: (float(n), "") for i in indicator_set.indicators}
            data = {"held_on": date.today() - timedelta(days=20)}
            rounds.save_round(None, cluster, indicator_set, data, values)


# --- query counts, the document, Schemathesis --------------------------------------------------


def _grow(app, world, joint, n: int) -> None:
    """n more joint actions with both clusters, and n more benchmarked clusters."""
    from portal_joint import services

    from portal.benchmarking import services as rounds
    from portal.clusters import services as clusters
    from portal.programmes.models import Programme

    with app.test_request_context(), tenant_scope(world["a"].id):
        programme = db.session.get(Programme, joint["programme"])
        indicator_set = rounds.find_set("esca-gold", "2013")
        for i in range(n):
            services.create_action(
                None,
                programme,
                {"title": f"Action {n}-{i}", "due_date": date.today() + timedelta(days=i)},
                clusters=[world["c1"].id, world["c2"].id],
                indicators=[("esca-gold", "2013", "engagement")],
            )
            cluster = clusters.create_cluster(None, {"name": f"Cluster {n}-{i}"}, world["a"].id)
            values = {ind.id: (2.0 + i % 3, "") for ind in indicator_set.indicators}
            data = {"held_on": date.today() - timedelta(days=30 + i)}
            rounds.save_round(None, cluster, indicator_set, data, values)


@pytest.mark.parametrize("role", ["coordinator", "member"])
def test_the_plugins_operations_cost_the_same_at_two_sizes(app, client, world, joint, role, capsys):
    headers = bearer(make_token(app, ROLE_EMAILS[role], "nordland"))
    urls = {
        "joint actions": f"{JOINT}/actions",
        "joint actions of c2": f"{JOINT}/actions?cluster_id={world['c2'].id}&sort=title",
        "joint action": f"{JOINT}/actions/{joint['press']}",
        "contributions": f"{JOINT}/actions/{joint['press']}/contributions",
        "forum": FORUM,
    }
    counts: dict[str, list[int]] = {}
    for size in (3, 15):
        _grow(app, world, joint, size)
        for name, url in urls.items():
            client.get(url, headers=headers)  # last use written, statistics kept
            with count_queries(app) as statements:
                answer = client.get(url, headers=headers)
            assert answer.status_code == 200, (name, answer.json)
            counts.setdefault(name, []).append(len(statements))
    with capsys.disabled():
        print(f"\n{role}: " + ", ".join(f"{n} {c[0]}" for n, c in counts.items()))
    assert {n: c[0] for n, c in counts.items()} == {n: c[1] for n, c in counts.items()}


def test_the_operations_are_in_the_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {
        "/api/v1/{tenant}/joint/actions",
        "/api/v1/{tenant}/joint/actions/{joint_action_id}",
        "/api/v1/{tenant}/joint/actions/{joint_action_id}/contributions",
        "/api/v1/{tenant}/joint/contributions/{part_id}",
        "/api/v1/{tenant}/compare/forum",
    } <= set(paths)
    assert {"get", "patch"} <= set(paths["/api/v1/{tenant}/joint/contributions/{part_id}"])
    assert "post" in paths["/api/v1/{tenant}/joint/actions/{joint_action_id}/contributions"]


@pytest.mark.parametrize("role", ["coordinator", "observer"])
def test_schemathesis_over_the_plugins_operations(app, world, joint, role, subtests):
    """As tests/test_api_schemathesis.py, with the plugins switched on and real ids."""
    import schemathesis
    from hypothesis import given

    from tests.test_api_schemathesis import BOUNDED, CHECKS, _strategies

    token = make_token(app, ROLE_EMAILS[role], "nordland", scopes=("read", "write"))
    # Schemathesis's WSGI transport does not decode brotli (compression: test_light_pages).
    headers = bearer(token, **{"Accept-Language": "en", "Accept-Encoding": "identity"})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        if "/joint/" in result.ok().path or "/compare/" in result.ok().path
    ]
    assert len(operations) == 7
    known = {
        "joint_action_id": joint["press"],
        "part_id": joint["c1_part"],
        "cluster_id": world["c1"].id,
    }
    for operation in operations:
        with subtests.test(operation=operation.label):

            @BOUNDED
            @given(case=_strategies(operation, known))
            def check(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            check()


def test_the_board_reads_the_same_listing(app, world, joint):
    """The board's page and the API page the same query (``listing.actions_query``)."""
    from portal_joint import services

    with app.test_request_context(), tenant_scope(world["a"].id):
        titles = [a.title for a in services.board(joint["programme"])]
    assert titles == ["Trade fair", "Shared press list"]
