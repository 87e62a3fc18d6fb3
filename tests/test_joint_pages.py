"""Joint action pages: who sees and does what, bad input, conflicts, htmx fragments, the
export, and fixed query counts on the board."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from portal_joint import services
from portal_joint.models import JointAction, JointStatus, Participation
from sqlalchemy import func, insert, select

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.permissions import may
from portal.programmes.models import Programme
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import count_queries, login, queries_per_page
from tests.process_support import build_process

TODAY = date.today()
HTMX = {"HX-Request": "true"}
ROLES = {
    "coordinator": "coord@a.example",
    "lead": "lead@a.example",
    "cluster_manager": "manager@a.example",
    "member": "member@a.example",
    "observer": "observer@a.example",
    "assessor": "assessor@a.example",
}


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def joint(app, world, factory):
    """Joint actions on; a programme with c1 and c2. "Joint branding" is led by
    lead@a.example (a member of c2) with Arctic Minerals (c1) as lead cluster, both clusters
    take part; "Member services" has c2 only and no lead person."""
    factory.enable_plugin(world["a"], "joint")
    factory.enable_plugin(world["a"], "esca")
    factory.user("lead@a.example", tenant=world["a"], role="member", clusters=[world["c2"]])
    process = build_process(app, world)
    with app.test_request_context(), tenant_scope(world["a"].id):
        coord, lead = _user("coord@a.example"), _user("lead@a.example")
        programme = db.session.get(Programme, process.programme_id)
        branding = services.create_action(
            coord,
            programme,
            {
                "title": "Joint branding",
                "aim": "One story for the region's clusters.",
                "lead_user_id": lead.id,
                "lead_cluster_id": world["c1"].id,
                "start_date": TODAY - timedelta(days=30),
                "due_date": TODAY + timedelta(days=60),
                "budget_money": "10000",
                "budget_hours": "200",
            },
            clusters=[world["c1"].id, world["c2"].id],
            indicators=[("esca-gold", "2013", "communication")],
        )
        services_action = services.create_action(
            coord,
            programme,
            {"title": "Member services", "due_date": TODAY - timedelta(days=5)},
            clusters=[world["c2"].id],
        )
        c1_part = next(p for p in branding.parts if p.cluster_id == world["c1"].id)
        c2_part = next(p for p in branding.parts if p.cluster_id == world["c2"].id)
        services.update_part(
            coord,
            c1_part,
            {"progress": 40, "money_spent": "3000", "hours_spent": "50", "solo_money": "8000"},
        )
        services.update_part(coord, c2_part, {"progress": 20, "money_spent": "1000"})
        return SimpleNamespace(
            world=world,
            process=process,
            programme_id=programme.id,
            branding=branding.id,
            services=services_action.id,
            c1_part=c1_part.id,
            c2_part=c2_part.id,
            other_part=services_action.parts[0].id,
        )


@pytest.fixture
def other_region(app, world, factory):
    """A programme, a joint action and a cluster of the second region (bravo)."""
    from portal.programmes import services as programmes

    factory.enable_plugin(world["b"], "joint")
    cluster = factory.cluster(world["b"], "Bravo Cluster")
    with app.test_request_context(), tenant_scope(world["b"].id):
        programme = programmes.create_programme(
            None,
            {"name": "Bravo 2026", "start_date": TODAY, "end_date": TODAY + timedelta(days=90)},
            world["b"].id,
        )
        action = services.create_action(
            None, programme, {"title": "Bravo secret"}, clusters=[cluster.id]
        )
        return SimpleNamespace(
            programme_id=programme.id,
            action_id=action.id,
            part_id=action.parts[0].id,
            cluster_id=cluster.id,
        )


def _client(app, role):
    client = app.test_client()
    login(client, ROLES[role])
    return client


def _action(app, action_id):
    with app.app_context(), unscoped():
        return db.session.get(JointAction, action_id)


def _part(app, part_id):
    with app.app_context(), unscoped():
        return db.session.get(Participation, part_id)


def _count(app, model):
    with app.app_context(), unscoped():
        return db.session.scalar(select(func.count()).select_from(model))


def _text(response):
    return response.get_data(as_text=True)


# --- the board ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_everyone_in_the_region_sees_the_board(app, joint, role):
    client = _client(app, role)
    page = _text(client.get(f"/nordland/joint/?programme={joint.programme_id}"))
    assert "Joint branding" in page and "Member services" in page
    assert 'id="board"' in page and "Forum 2026-2028" in page
    assert "Progress rolls up" in page  # the one-line explanation
    assert "overdue" in page  # "Member services" was due five days ago
    movable = {action: f'id="move-{action}"' in page for action in (joint.branding, joint.services)}
    expected = {
        "coordinator": {joint.branding: True, joint.services: True},
        "lead": {joint.branding: True, joint.services: False},
    }.get(role, {joint.branding: False, joint.services: False})
    assert movable == expected
    assert ("New joint action" in page) == (role == "coordinator")


def test_the_board_without_programme_picks_one_and_explains_when_there_is_none(app, world, factory):
    factory.enable_plugin(world["a"], "joint")
    client = _client(app, "coordinator")
    page = _text(client.get("/nordland/joint/"))
    assert "There is no programme yet" in page
    assert client.get("/nordland/joint/timeline").status_code == 200
    build_process(app, world)
    page = _text(client.get("/nordland/joint/"))
    assert "Forum 2026-2028" in page and "This programme has no joint actions yet" in page
    assert "Add the first joint action" in page


def test_the_board_is_a_fragment_for_htmx(app, joint):
    client = _client(app, "observer")
    url = f"/nordland/joint/?programme={joint.programme_id}"
    fragment = _text(client.get(url, headers={**HTMX, "HX-Target": "board"}))
    assert fragment.lstrip().startswith('<div id="board"') and "<html" not in fragment
    full = _text(client.get(url, headers=HTMX))  # htmx, but not for the board: whole page
    assert "<html" in full


def test_moving_a_card_plain_and_with_htmx(app, joint):
    client = _client(app, "coordinator")
    url = f"/nordland/joint/actions/{joint.branding}/move"
    version = _action(app, joint.branding).version
    # Without JavaScript: a redirect back to the board.
    response = client.post(url, data={"status": "planned", "version": version})
    assert response.status_code == 302
    assert f"/nordland/joint/?programme={joint.programme_id}" in response.location
    assert _action(app, joint.branding).status == JointStatus.PLANNED
    # htmx: the board fragment with the card in its new column and a message.
    version = _action(app, joint.branding).version
    response = client.post(url, data={"status": "in_progress", "version": version}, headers=HTMX)
    page = _text(response)
    assert response.status_code == 200 and "<html" not in page
    assert "“Joint branding” is now: In progress." in page
    column = page.split('id="column-in_progress"')[1].split("</section>")[0]
    assert "Joint branding" in column
    # A stale card: refused, the board shows what is stored now.
    response = client.post(url, data={"status": "done", "version": version}, headers=HTMX)
    assert response.status_code == 409
    assert "was not moved: someone else changed it" in _text(response)
    assert _action(app, joint.branding).status == JointStatus.IN_PROGRESS
    # Bad input changes nothing and says why.
    version = _action(app, joint.branding).version
    response = client.post(url, data={"status": "sideways", "version": version}, headers=HTMX)
    assert response.status_code == 422 and "Unknown status." in _text(response)
    response = client.post(url, data={"status": "done"}, headers=HTMX)
    assert response.status_code == 422 and "out of date" in _text(response)
    response = client.post(url, data={"status": "done", "version": "x"})
    assert response.status_code == 302
    assert _action(app, joint.branding).status == JointStatus.IN_PROGRESS
    # The plain form may come back to the joint action's page, never elsewhere.
    detail = f"/nordland/joint/actions/{joint.branding}"
    response = client.post(url, data={"status": "done", "version": version, "next": detail})
    assert response.location.endswith(detail)
    version = _action(app, joint.branding).version
    response = client.post(
        url, data={"status": "planned", "version": version, "next": "https://evil.example/"}
    )
    assert "evil" not in response.location


@pytest.mark.parametrize(
    ("role", "branding", "services_"),
    [
        ("coordinator", 302, 302),
        ("lead", 302, 403),
        ("cluster_manager", 403, 403),
        ("member", 403, 403),
        ("observer", 403, 403),
        ("assessor", 403, 403),
    ],
)
def test_who_may_move_a_joint_action(app, joint, role, branding, services_):
    client = _client(app, role)
    for action_id, expected in ((joint.branding, branding), (joint.services, services_)):
        version = _action(app, action_id).version
        response = client.post(
            f"/nordland/joint/actions/{action_id}/move",
            data={"status": "done", "version": version},
        )
        assert response.status_code == expected, (role, action_id)
        done = _action(app, action_id).status == JointStatus.DONE
        assert done == (expected == 302)


def test_the_board_runs_the_same_queries_at_3_and_60_actions(app, joint, factory):
    world = joint.world
    extra = [factory.cluster(world["a"], f"Cluster {i}").id for i in range(3)]
    clusters = [world["c1"].id, world["c2"].id, *extra]
    client = _client(app, "cluster_manager")
    url = f"/nordland/joint/?programme={joint.programme_id}"

    def grow(n):
        with app.test_request_context(), tenant_scope(world["a"].id):
            ids = [
                db.session.scalar(
                    insert(JointAction)
                    .values(
                        tenant_id=world["a"].id,
                        programme_id=joint.programme_id,
                        title=f"Bulk {n} {i}",
                        aim="",
                        status=list(JointStatus)[i % 5].value,
                        origin="manual",
                        version=1,
                        lead_cluster_id=clusters[i % 5],
                        due_date=TODAY + timedelta(days=i - 10),
                        budget_money=1000,
                    )
                    .returning(JointAction.id)
                )
                for i in range(n)
            ]
            db.session.execute(
                insert(Participation),
                [
                    {
                        "tenant_id": world["a"].id,
                        "action_id": action_id,
                        "cluster_id": cluster_id,
                        "joined_on": TODAY,
                        "tasks": "",
                        "status": "in_progress",
                        "progress": 30,
                        "hours_spent": 5,
                        "money_spent": 100,
                        "solo_money": 300,
                        "version": 1,
                    }
                    for action_id in ids
                    for cluster_id in clusters
                ],
            )
            db.session.commit()

    def measure():
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200
        return len(statements), _text(response)

    grow(1)  # with the fixture's two: 3 joint actions
    few, _page = measure()
    grow(57)
    many, page = measure()
    assert page.count('<article class="joint-card') == 60
    assert many == few, (few, many)
    fragment_counts = []
    for _ in range(2):
        with count_queries(app) as statements:
            client.get(url, headers={**HTMX, "HX-Target": "board"})
        fragment_counts.append(len(statements))
    assert fragment_counts[0] == fragment_counts[1] <= few


# --- creating, editing, deleting --------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "cluster_manager", "member", "observer", "assessor"])
def test_only_coordinators_create_joint_actions(app, joint, role):
    client = _client(app, role)
    url = f"/nordland/joint/new?programme={joint.programme_id}"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"title": "Mine"}).status_code == 403
    assert _count(app, JointAction) == 2


def test_a_coordinator_creates_a_joint_action(app, joint):
    client = _client(app, "coordinator")
    url = f"/nordland/joint/new?programme={joint.programme_id}"
    page = _text(client.get(url))
    assert "Participating clusters" in page and "Communication in the cluster" in page
    assert 'value="esca-gold:2013:communication"' in page
    assert client.get("/nordland/joint/new").status_code == 404  # which programme?
    manager_id = joint.process.manager_id
    response = client.post(
        url,
        data={
            "title": "Joint innovation projects",
            "aim": "Two projects a year",
            "lead_user_id": str(manager_id),
            "lead_cluster_id": str(joint.world["c2"].id),
            "start_date": TODAY.isoformat(),
            "due_date": (TODAY + timedelta(days=200)).isoformat(),
            "budget_money": "25 000,50".replace(" ", ""),
            "budget_hours": "120",
            "clusters": [str(joint.world["c1"].id)],
            "indicators": ["esca-gold:2013:communication", "esca-gold:2013:services"],
        },
    )
    assert response.status_code == 302
    with app.app_context(), unscoped():
        action = db.session.scalar(
            select(JointAction).where(JointAction.title == "Joint innovation projects")
        )
        assert action.budget_money == Decimal("25000.50") and action.lead_user_id == manager_id
        assert [p.cluster_id for p in action.parts] == [joint.world["c1"].id]
        assert sorted(i.indicator_id for i in action.indicators) == ["communication", "services"]
        assert response.location.endswith(f"/nordland/joint/actions/{action.id}")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"budget_money": "lots"}, "Enter a number."),
        ({"budget_hours": "-3"}, "Enter a number from 0 up to"),
        (
            {"start_date": TODAY.isoformat(), "due_date": (TODAY - timedelta(1)).isoformat()},
            "The due date cannot be before the start.",
        ),
        ({"start_date": "31.02.2026"}, "Not a valid date value."),
        ({"lead_cluster_id": "987654"}, "Not a valid choice."),
        ({"lead_user_id": "987654"}, "Choose someone who may work on the joint action"),
        ({"indicators": ["esca-gold:2013:nope"]}, "not a valid choice"),
        ({"clusters": ["abc"]}, "Invalid choice"),
    ],
)
def test_bad_input_on_the_new_form_is_explained_and_saves_nothing(app, joint, data, message):
    client = _client(app, "coordinator")
    response = client.post(
        f"/nordland/joint/new?programme={joint.programme_id}", data={"title": "Ok", **data}
    )
    assert response.status_code == 422
    page = _text(response)
    assert message in page and "Check the marked fields." in page
    assert _count(app, JointAction) == 2


def test_a_cluster_of_another_region_cannot_be_chosen(app, joint, other_region):
    client = _client(app, "coordinator")
    response = client.post(
        f"/nordland/joint/new?programme={joint.programme_id}",
        data={"title": "Sneaky", "clusters": [str(other_region.cluster_id)]},
    )
    assert response.status_code == 422 and _count(app, JointAction) == 3  # 2 + bravo's


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("coordinator", 200),
        ("lead", 200),
        ("cluster_manager", 403),
        ("member", 403),
        ("observer", 403),
        ("assessor", 403),
    ],
)
def test_who_may_edit_and_delete(app, joint, role, expected):
    client = _client(app, role)
    base = f"/nordland/joint/actions/{joint.branding}"
    assert client.get(base + "/edit").status_code == expected
    assert client.get(base + "/delete").status_code == expected
    page = _text(client.get(base))
    assert ('href="' + base + '/edit"' in page) == (expected == 200)
    response = client.post(base + "/delete", data={"confirm": "yes"})
    assert response.status_code == (302 if expected == 200 else 403)
    assert (_action(app, joint.branding) is None) == (expected == 200)


def test_editing_keeps_a_stale_form_from_overwriting(app, joint):
    client = _client(app, "lead")
    url = f"/nordland/joint/actions/{joint.branding}/edit"
    page = _text(client.get(url))
    assert 'value="One story' not in page and "One story for the region" in page  # textarea
    assert 'name="budget_money" type="text" value="10000"' in page
    version = _action(app, joint.branding).version
    form = {
        "title": "Joint branding 2027",
        "aim": "One story",
        "lead_user_id": str(_action(app, joint.branding).lead_user_id),
        "lead_cluster_id": str(joint.world["c1"].id),
        "budget_money": "12000",
        "version": str(version),
        "indicators": ["esca-gold:2013:services"],
    }
    response = client.post(url, data=form)
    assert response.status_code == 302
    action = _action(app, joint.branding)
    assert action.title == "Joint branding 2027" and action.budget_money == 12000
    with app.app_context(), unscoped():
        linked = db.session.get(JointAction, joint.branding).indicators
        assert sorted(i.indicator_id for i in linked) == ["communication", "services"]
    # Someone saved in between: the old version is refused and the stored values shown.
    response = client.post(url, data={**form, "title": "Stale title"})
    assert response.status_code == 409
    page = _text(response)
    assert "Not saved: someone else changed this joint action" in page
    assert "Joint branding 2027" in page and 'value="Stale title"' in page
    assert _action(app, joint.branding).title == "Joint branding 2027"
    # Bad input on the edit form.
    version = _action(app, joint.branding).version
    response = client.post(url, data={**form, "version": version, "budget_hours": "many"})
    assert response.status_code == 422 and "Enter a number." in _text(response)


def test_deleting_asks_first_also_without_javascript(app, joint):
    client = _client(app, "coordinator")
    url = f"/nordland/joint/actions/{joint.branding}/delete"
    page = _text(client.get(url))
    assert "It cannot be undone." in page and "contributions of 2 clusters" in page
    response = client.post(url)  # no confirmation: ask again
    assert response.status_code == 200 and _action(app, joint.branding) is not None
    response = client.post(url, data={"confirm": "yes"})
    assert response.status_code == 302 and _action(app, joint.branding) is None
    assert _count(app, Participation) == 1  # only "Member services" keeps its part


# --- the joint action's page ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_joint_action_page_tells_everything(app, joint, role):
    client = _client(app, role)
    with app.test_request_context(), tenant_scope(joint.world["a"].id):
        services.leave(None, db.session.get(Participation, joint.c2_part), TODAY)
    page = _text(client.get(f"/nordland/joint/actions/{joint.branding}"))
    for text in (
        "One story for the region",
        "Lead person",
        "Lead",  # the lead's name (factory: the e-mail's first part, titled)
        "Arctic Minerals",
        "Communication in the cluster",
        "Entered on this page",
        "Left on",
        "Not counted in the progress.",
        # progress: c1 at 40 %, c2 left
        "The average of what the 1 cluster taking part now reports.",
        # money: c1 estimated 8000 and spent 3000 (not done yet); c2 spent 1000, no estimate
        "1 of 2 participants gave no estimate: not counted.",
        "1 participant's part is not done yet: its estimate counts once it is.",
        "Together versus alone",
        "How is progress computed?",
    ):
        assert text in page, text
    assert "<svg" in page and 'class="joint-part joint-part-left"' in page
    can_edit_c1 = role in ("coordinator", "cluster_manager", "lead")
    edit_url = f"/nordland/joint/actions/{joint.branding}/parts/{joint.c1_part}"
    assert (f'href="{edit_url}"' in page) == can_edit_c1
    # c2 left: the coordinator may bring it back; c1's manager has nothing to join for
    assert ('id="join-cluster"' in page) == (role == "coordinator")


def test_pages_of_another_region_are_not_found(app, joint, other_region):
    client = _client(app, "coordinator")
    bravo = other_region
    for url in (
        f"/nordland/joint/?programme={bravo.programme_id}",
        f"/nordland/joint/timeline?programme={bravo.programme_id}",
        f"/nordland/joint/export.csv?programme={bravo.programme_id}",
        f"/nordland/joint/export.xlsx?programme={bravo.programme_id}",
        f"/nordland/joint/new?programme={bravo.programme_id}",
        f"/nordland/joint/actions/{bravo.action_id}",
        f"/nordland/joint/actions/{bravo.action_id}/edit",
        f"/nordland/joint/actions/{bravo.action_id}/delete",
        f"/nordland/joint/actions/{bravo.action_id}/parts/{bravo.part_id}",
        f"/nordland/joint/actions/{joint.branding}/parts/{bravo.part_id}",
        # a part of another joint action under this one's address
        f"/nordland/joint/actions/{joint.branding}/parts/{joint.other_part}",
        f"/nordland/joint/clusters/{bravo.cluster_id}",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/nordland/joint/actions/{bravo.action_id}/move", {"status": "done", "version": 1}),
        (f"/nordland/joint/actions/{bravo.action_id}/delete", {"confirm": "yes"}),
        (f"/nordland/joint/actions/{joint.branding}/join", {"cluster_id": bravo.cluster_id}),
        (f"/nordland/joint/actions/{bravo.action_id}/parts/{bravo.part_id}/leave", {}),
        (f"/nordland/joint/actions/{joint.branding}/parts/{joint.other_part}/leave", {}),
    ):
        assert client.post(url, data=data).status_code == 404, url
    assert _action(app, bravo.action_id).status == JointStatus.PROPOSED
    assert _part(app, joint.other_part).left_on is None


# --- contributions ----------------------------------------------------------------------------


def _part_url(joint, part_id=None):
    return f"/nordland/joint/actions/{joint.branding}/parts/{part_id or joint.c1_part}"


def _part_form(app, part_id, **changes):
    part = _part(app, part_id)
    prefix = f"part-{part_id}-"
    data = {
        "tasks": part.tasks,
        "owner_id": str(part.owner_id or ""),
        "status": part.status.value,
        "progress": str(part.progress),
        "hours_spent": str(part.hours_spent),
        "money_spent": str(part.money_spent),
        "solo_hours": "" if part.solo_hours is None else str(part.solo_hours),
        "solo_money": "" if part.solo_money is None else str(part.solo_money),
        "version": str(part.version),
        **changes,
    }
    return {prefix + k: v for k, v in data.items()}


@pytest.mark.parametrize(
    ("role", "c1", "c2"),
    [
        ("coordinator", 200, 200),
        ("lead", 200, 200),  # the lead person keeps every contribution of their action
        ("cluster_manager", 200, 403),  # manager of c1 only
        ("member", 403, 403),
        ("observer", 403, 403),
        ("assessor", 403, 403),
    ],
)
def test_who_may_update_a_contribution(app, joint, role, c1, c2):
    client = _client(app, role)
    for part_id, expected in ((joint.c1_part, c1), (joint.c2_part, c2)):
        assert client.get(_part_url(joint, part_id)).status_code == expected
        response = client.post(
            _part_url(joint, part_id), data=_part_form(app, part_id, progress="77")
        )
        assert response.status_code == (302 if expected == 200 else 403)
        assert (_part(app, part_id).progress == 77) == (expected == 200)


def test_a_manager_updates_their_contribution_inline_with_htmx(app, joint):
    client = _client(app, "cluster_manager")
    url = _part_url(joint)
    # The edit form replaces the card.
    fragment = _text(client.get(url, headers={**HTMX, "HX-Target": f"part-{joint.c1_part}"}))
    assert "<html" not in fragment and f'id="part-{joint.c1_part}"' in fragment
    assert f'hx-post="{url}"' in fragment and "What doing it alone would have cost" in fragment
    # Saving answers the new card and, out of band, the roll-up of the joint action.
    response = client.post(
        url,
        data=_part_form(
            app, joint.c1_part, progress="80", solo_hours="90", tasks="Logo and web page"
        ),
        headers=HTMX,
    )
    page = _text(response)
    assert response.status_code == 200 and "<html" not in page
    assert "The contribution of Arctic Minerals is saved." in page
    assert "Logo and web page" in page and 'hx-swap-oob="true"' in page
    assert "The average of what the 2 clusters taking part now report." in page
    part = _part(app, joint.c1_part)
    assert part.progress == 80 and part.solo_hours == 90 and part.tasks == "Logo and web page"
    # Without JavaScript: back to the joint action's page at the card.
    response = client.post(url, data=_part_form(app, joint.c1_part, progress="85"))
    assert response.status_code == 302 and response.location.endswith(
        f"/nordland/joint/actions/{joint.branding}#part-{joint.c1_part}"
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"progress": "140"}, "progress", "Between 0 and 100."),
        ({"progress": "lots"}, "progress", "Between 0 and 100."),
        ({"hours_spent": "x"}, "hours_spent", "Enter a number."),
        ({"solo_money": "-1"}, "solo_money", "Enter a number from 0 up to"),
        ({"status": "sideways"}, "status", "Not a valid choice."),
        ({"owner_id": "987654"}, "owner_id", "Choose someone who may work on the joint action"),
    ],
)
def test_bad_contribution_input_is_explained_and_saves_nothing(app, joint, changes, field, message):
    client = _client(app, "cluster_manager")
    before = _part(app, joint.c1_part)
    for headers in ({}, HTMX):
        response = client.post(
            _part_url(joint), data=_part_form(app, joint.c1_part, **changes), headers=headers
        )
        assert response.status_code == 422
        page = _text(response)
        assert message in page and f'id="part-{joint.c1_part}-{field}-error"' in page
        assert ("<html" in page) == (not headers)
    after = _part(app, joint.c1_part)
    assert (after.progress, after.version, after.hours_spent) == (
        before.progress,
        before.version,
        before.hours_spent,
    )


def _people_offered(page: str, name: str) -> set[str]:
    select_ = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.DOTALL).group(0)
    return set(re.findall(r'value="(\d+)"', select_))


@pytest.mark.parametrize("role", ["observer", "assessor"])
def test_observers_and_assessors_neither_lead_nor_own(app, joint, role):
    """They read only: they are not offered as a lead or an owner, a crafted form naming
    them changes nothing, and where an older record names them they still only read."""
    with app.app_context(), unscoped():
        reader = str(_user(ROLES[role]).id)
        worker = str(_user("member@a.example").id)
    client = _client(app, "coordinator")
    new_url = f"/nordland/joint/new?programme={joint.programme_id}"
    offered = _people_offered(_text(client.get(new_url)), "lead_user_id")
    assert worker in offered and reader not in offered
    response = client.post(new_url, data={"title": "Ok", "lead_user_id": reader})
    assert response.status_code == 422
    assert "Choose someone who may work on the joint action" in _text(response)
    assert _count(app, JointAction) == 2
    page = _text(client.get(_part_url(joint)))
    offered = _people_offered(page, f"part-{joint.c1_part}-owner_id")
    assert worker in offered and reader not in offered
    before = _part(app, joint.c1_part)
    response = client.post(_part_url(joint), data=_part_form(app, joint.c1_part, owner_id=reader))
    assert response.status_code == 422
    assert "Choose someone who may work on the joint action" in _text(response)
    assert _part(app, joint.c1_part).version == before.version
    with app.test_request_context(), tenant_scope(joint.world["a"].id):
        part = db.session.get(Participation, joint.c1_part)
        with pytest.raises(services.ServiceError):
            services.update_part(None, part, {"owner_id": int(reader)})
        db.session.rollback()
        # An older record naming them: kept as it is, and they still only read.
        part = db.session.get(Participation, joint.c1_part)
        part.owner_id = int(reader)
        part.action.lead_user_id = int(reader)
        db.session.commit()
        services.update_part(None, part, {"owner_id": int(reader), "progress": 45})
        person = _user(ROLES[role])
        assert not may(person, "joint.contribute", part)
        assert not may(person, "joint.manage", part.action)
        assert may(person, "joint.view", part.action)


def test_a_stale_contribution_form_is_refused_with_the_current_values(app, joint):
    client = _client(app, "cluster_manager")
    stale = _part_form(app, joint.c1_part, progress="10")
    with app.test_request_context(), tenant_scope(joint.world["a"].id):
        part = db.session.get(Participation, joint.c1_part)
        services.update_part(_user("coord@a.example"), part, {"progress": 65})
    for headers in ({}, HTMX):
        response = client.post(_part_url(joint), data=stale, headers=headers)
        assert response.status_code == 409
        page = _text(response)
        assert "Not saved: someone else changed this contribution" in page
        assert "65 %" in page  # what is stored now
        assert f'name="part-{joint.c1_part}-progress" type="number" value="10"' in page
    assert _part(app, joint.c1_part).progress == 65
    # The form now carries the current version: saving again goes through.
    version = re.search(
        rf'name="part-{joint.c1_part}-version" type="hidden" value="(\d+)"', page
    ).group(1)
    response = client.post(
        _part_url(joint), data={**stale, f"part-{joint.c1_part}-version": version}
    )
    assert response.status_code == 302 and _part(app, joint.c1_part).progress == 10


# --- joining and leaving ----------------------------------------------------------------------


def test_managers_join_and_leave_for_their_own_cluster(app, joint):
    client = _client(app, "cluster_manager")
    join = f"/nordland/joint/actions/{joint.services}/join"
    page = _text(client.get(f"/nordland/joint/actions/{joint.services}"))
    assert 'id="join-cluster"' in page and "Arctic Minerals" in page
    assert client.post(join, data={"cluster_id": joint.world["c2"].id}).status_code == 403
    response = client.post(join, data={"cluster_id": joint.world["c1"].id})
    assert response.status_code == 302
    page = _text(client.get(response.location))
    assert "Arctic Minerals takes part in “Member services” now." in page
    response = client.post(join, data={"cluster_id": joint.world["c1"].id})
    assert "Arctic Minerals takes part already." in _text(client.get(response.location))
    response = client.post(join, data={"cluster_id": "nope"})
    assert "Choose a cluster." in _text(client.get(response.location))
    # Leaving: their own cluster only, once.
    leave = f"/nordland/joint/actions/{joint.branding}/parts/{{}}/leave"
    assert client.post(leave.format(joint.c2_part)).status_code == 403
    response = client.post(leave.format(joint.c1_part))
    assert response.status_code == 302 and _part(app, joint.c1_part).left_on == TODAY
    response = client.post(leave.format(joint.c1_part))
    assert "Arctic Minerals has left already." in _text(client.get(response.location))


@pytest.mark.parametrize("role", ["member", "observer", "assessor", "lead"])
def test_readers_neither_join_nor_leave(app, joint, role):
    client = _client(app, role)
    join = f"/nordland/joint/actions/{joint.services}/join"
    assert client.post(join, data={"cluster_id": joint.world["c1"].id}).status_code == 403
    leave = f"/nordland/joint/actions/{joint.branding}/parts/{joint.c1_part}/leave"
    assert client.post(leave).status_code == 403
    assert _part(app, joint.c1_part).left_on is None


def test_a_closed_joint_action_takes_no_new_participants(app, joint):
    client = _client(app, "coordinator")
    version = _action(app, joint.services).version
    client.post(
        f"/nordland/joint/actions/{joint.services}/move",
        data={"status": "done", "version": version},
    )
    page = _text(client.get(f"/nordland/joint/actions/{joint.services}"))
    assert 'id="join-cluster"' not in page
    response = client.post(
        f"/nordland/joint/actions/{joint.services}/join",
        data={"cluster_id": joint.world["c1"].id},
    )
    assert "This joint action is closed." in _text(client.get(response.location))


# --- a cluster's promises, timeline, panels ---------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_what_a_cluster_has_promised(app, joint, role):
    client = _client(app, role)
    page = _text(client.get(f"/nordland/joint/clusters/{joint.world['c1'].id}"))
    assert "What Arctic Minerals has promised" in page
    assert "Joint branding" in page and "Member services" not in page  # c2 only
    assert "40 %" in page and "3,000" in page
    page = _text(client.get(f"/nordland/joint/clusters/{joint.world['c2'].id}"))
    assert "Member services" in page and "overdue" in page
    board = _text(client.get("/nordland/joint/"))
    mine = {"cluster_manager": "What Arctic Minerals", "member": "What Helgeland Health"}
    if role in mine:
        assert mine[role] in board


def test_the_timeline_draws_bars_and_a_table(app, joint):
    client = _client(app, "observer")
    with app.test_request_context(), tenant_scope(joint.world["a"].id):
        programme = db.session.get(Programme, joint.programme_id)
        services.create_action(None, programme, {"title": "No dates yet"})
    page = _text(client.get(f"/nordland/joint/timeline?programme={joint.programme_id}"))
    assert page.count("<rect") == 2 and "Today" in page
    assert "Show as table" in page and "No dates yet" in page
    assert "1 joint action has no dates yet and is only in the table." in page


def test_the_cluster_and_programme_pages_show_a_joint_panel(app, joint):
    client = _client(app, "cluster_manager")
    page = _text(client.get(f"/nordland/clusters/{joint.world['c1'].id}"))
    assert "1 contribution to an open joint action." in page
    assert f"/nordland/joint/clusters/{joint.world['c1'].id}" in page
    page = _text(client.get(f"/nordland/programmes/{joint.programme_id}"))
    assert "Board of joint actions" in page and "joint.css" in page
    assert "2 joint actions in all." in page


# --- export -------------------------------------------------------------------------------------


def test_the_export_has_a_row_per_contribution(app, joint):
    client = _client(app, "observer")
    with app.test_request_context(), tenant_scope(joint.world["a"].id):
        part = db.session.get(Participation, joint.c2_part)
        services.update_part(None, part, {"tasks": '=HYPERLINK("x")'})
        programme = db.session.get(Programme, joint.programme_id)
        services.create_action(None, programme, {"title": "Nobody yet"})
    response = client.get(f"/nordland/joint/export.csv?programme={joint.programme_id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    # stable column names in every language (the import's): statuses by id, people by e-mail
    assert header[:3] == ["action_id", "title", "status"] and "solo_money" in header
    # Joint branding: 2 rows (c1, c2); Member services: 1; Nobody yet: 1 without a cluster.
    cluster = header.index("cluster")
    assert sorted((r[1], r[cluster]) for r in body) == [
        ("Joint branding", "Arctic Minerals"),
        ("Joint branding", "Helgeland Health"),
        ("Member services", "Helgeland Health"),
        ("Nobody yet", ""),
    ]
    c1 = next(r for r in body if r[cluster] == "Arctic Minerals")
    named = dict(zip(header, c1, strict=True))
    assert named["money_spent"] == "3000" and named["solo_money"] == "8000"
    assert named["lead_email"] == "lead@a.example" and named["lead_cluster"] == "Arctic Minerals"
    assert named["action_progress"] == "30" and named["status"] == "proposed"
    assert named["part_status"] == "not_started" and named["part_progress"] == "40"
    c2 = next(r for r in body if r[1] == "Joint branding" and r[cluster] == "Helgeland Health")
    assert c2[header.index("tasks")] == '\'=HYPERLINK("x")'  # never a formula
    client.post("/language", data={"locale": "nb", "next": "/"})
    again = client.get(f"/nordland/joint/export.csv?programme={joint.programme_id}")
    assert again.data.splitlines()[0] == response.data.splitlines()[0]

    response = client.get(f"/nordland/joint/export.xlsx?programme={joint.programme_id}")
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == header and len(values) == 5
    row = next(r for r in values if r[header.index("cluster")] == "Arctic Minerals")
    assert row[header.index("money_spent")] == 3000 and row[header.index("due_date")].date() == (
        TODAY + timedelta(days=60)
    )
    assert client.get("/nordland/joint/export.csv").status_code == 404


def test_the_plugin_switched_off_answers_404(app, joint, factory):
    factory.enable_plugin(joint.world["a"], "joint", enabled=False)
    client = _client(app, "coordinator")
    assert client.get(f"/nordland/joint/?programme={joint.programme_id}").status_code == 404
    assert client.get(f"/nordland/joint/actions/{joint.branding}").status_code == 404
    page = _text(client.get(f"/nordland/clusters/{joint.world['c1'].id}"))
    assert "open joint action" not in page


def test_unknown_clusters_and_ids_never_fail(app, joint):
    client = _client(app, "coordinator")
    assert client.get("/nordland/joint/clusters/987654").status_code == 404
    assert client.get("/nordland/joint/?programme=abc").status_code == 200
    assert client.get("/nordland/joint/actions/987654").status_code == 404
    response = client.post(f"/nordland/joint/actions/{joint.branding}/move", data={})
    assert response.status_code == 302


def test_the_joint_action_page_and_the_cluster_page_run_fixed_queries(app, joint, factory):
    world = joint.world
    client = _client(app, "cluster_manager")
    urls = (
        f"/nordland/joint/actions/{joint.branding}",
        f"/nordland/joint/clusters/{world['c1'].id}",
        f"/nordland/joint/timeline?programme={joint.programme_id}",
        f"/nordland/programmes/{joint.programme_id}",
        f"/nordland/clusters/{world['c1'].id}",
    )

    def counts():
        return queries_per_page(app, client, urls)

    few = counts()
    clusters = [factory.cluster(world["a"], f"Cluster {i}").id for i in range(10)]
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = db.session.get(JointAction, joint.branding)
        programme = db.session.get(Programme, joint.programme_id)
        for cluster_id in clusters:
            services.join(None, action, db.session.get(Cluster, cluster_id))
        for i in range(20):
            services.create_action(
                None,
                programme,
                {"title": f"More {i}", "due_date": TODAY + timedelta(days=i)},
                clusters=[world["c1"].id, *clusters[:3]],
            )
    many = counts()
    assert many == few
