"""Saves that another save overtakes while they are written: the version error comes from a
flush in the middle of the save (not the check up front) and answers 409 with the stored values
and the user's input kept, like a stale form (portal.locking ``saving``), never 500.

Each race is forced deterministically: the other writer's change is committed on a connection of
its own at the moment named, after the page read the object and passed the version check.
"""

from __future__ import annotations

import threading

import pytest

from tests import locking_support as build
from tests.conftest import ROLE_EMAILS, USE_POSTGRES, login
from tests.test_optimistic_locking import ACTION, JOINT, PART, _version

# --- the action race: the other save lands while this one sets the action's clusters --------


def _action_form(app, world, title):
    return {**ACTION, "title": title, "clusters": [str(world["c1"].id)]}


def test_a_save_that_lands_while_the_clusters_are_set_answers_409(app, world, monkeypatch):
    """The version error comes from the autoflush while the clusters are set (outside the
    commit): it is a 409 with the current values like the inline edit's, not a 500."""
    from portal.extensions import db
    from portal.plans import services
    from portal.plans.models import Action

    ids = build.run(app, world, build.action)
    url = f"/nordland/actions/{ids['id']}/edit"
    client = app.test_client()
    login(client, ROLE_EMAILS["coordinator"])
    version = _version(client.get(url).get_data(as_text=True))
    original = services.set_action_clusters

    def other_writer_first(action, cluster_ids):
        with db.engine.begin() as other:  # someone else's save commits right now
            other.execute(
                Action.__table__.update()
                .where(Action.__table__.c.id == action.id)
                .values(version=Action.__table__.c.version + 1, title="Their title")
            )
        original(action, cluster_ids)

    monkeypatch.setattr(services, "set_action_clusters", other_writer_first)
    response = client.post(url, data={**_action_form(app, world, "My title"), "version": version})
    body = response.get_data(as_text=True)
    assert response.status_code == 409, body[:2000]
    assert "Their title" in body and "My title" in body
    assert build.run(app, world, build.column("Action", "title"), ids) == "Their title"


@pytest.mark.skipif(not USE_POSTGRES, reason="two transactions at once need PostgreSQL")
def test_two_people_saving_the_same_action_at_once(app, world, monkeypatch):
    """Two real requests in two threads, both past reading the action (version 1) when either
    writes: one is saved, the other answers 409, none 500."""
    from portal.plans import services

    ids = build.run(app, world, build.action)
    url = f"/nordland/actions/{ids['id']}/edit"
    clients = [app.test_client(), app.test_client()]
    for client in clients:
        login(client, ROLE_EMAILS["coordinator"])
    version = _version(clients[0].get(url).get_data(as_text=True))
    both_read = threading.Barrier(2, timeout=20)
    original = services.set_action_clusters

    def set_clusters(action, cluster_ids):
        both_read.wait()  # both requests changed the action in memory; none has written
        original(action, cluster_ids)

    monkeypatch.setattr(services, "set_action_clusters", set_clusters)
    statuses: dict[str, int] = {}

    def save(client, title):
        data = {**_action_form(app, world, title), "version": version}
        statuses[title] = client.post(url, data=data).status_code

    threads = [
        threading.Thread(target=save, args=(client, title))
        for client, title in zip(clients, ("Title A", "Title B"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses.values()) == [302, 409], statuses
    winner = next(title for title, status in statuses.items() if status == 302)
    assert build.run(app, world, build.column("Action", "title"), ids) == winner


# --- joint actions and contributions: the other save lands while this one is written -------


def _other_commits(model, obj_id: int, **values) -> None:
    """Someone else's save of the row commits right now (its version goes up)."""
    from portal.extensions import db

    table = model.__table__
    with db.engine.begin() as other:
        other.execute(
            table.update().where(table.c.id == obj_id).values(version=table.c.version + 1, **values)
        )


def _coordinator(app):
    client = app.test_client()
    login(client, ROLE_EMAILS["coordinator"])
    return client


def test_a_joint_action_save_another_overtook_shows_the_form_again(app, world, monkeypatch):
    from portal_joint import services
    from portal_joint.models import JointAction

    ids = build.run(app, world, build.joint_action)
    url = f"/nordland/joint/actions/{ids['id']}/edit"
    client = _coordinator(app)
    version = _version(client.get(url).get_data(as_text=True))
    original = services.update_action

    def other_writer_first(user, action, data, version=None):
        _other_commits(JointAction, action.id, title="Their branding")
        return original(user, action, data, version)

    monkeypatch.setattr(services, "update_action", other_writer_first)
    response = client.post(url, data={**JOINT, "title": "My branding", "version": version})
    body = response.get_data(as_text=True)
    assert response.status_code == 409, body[:2000]
    assert "Their branding" in body and "My branding" in body and "<html" in body
    assert build.run(app, world, build.column("JointAction", "title"), ids) == "Their branding"
    assert int(_version(body)) > int(version)  # saving again overwrites knowingly

    monkeypatch.setattr(services, "update_action", original)
    again = client.post(url, data={**JOINT, "title": "My branding", "version": _version(body)})
    assert again.status_code == 302
    assert build.run(app, world, build.column("JointAction", "title"), ids) == "My branding"


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx fragment"])
def test_a_contribution_save_another_overtook_shows_the_form_again(app, world, monkeypatch, htmx):
    from portal_joint import services
    from portal_joint.models import Participation

    ids = build.run(app, world, build.joint_action)
    url = f"/nordland/joint/actions/{ids['id']}/parts/{ids['part_id']}"
    field = f"part-{ids['part_id']}-version"
    client = _coordinator(app)
    version = _version(client.get(url).get_data(as_text=True), field)
    original = services.update_part

    def other_writer_first(user, part, data, version=None):
        _other_commits(Participation, part.id, tasks="Their tasks")
        return original(user, part, data, version)

    monkeypatch.setattr(services, "update_part", other_writer_first)
    data = {key.format(**ids): value for key, value in PART.items()}
    data |= {f"part-{ids['part_id']}-tasks": "My tasks", field: version}
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(url, data=data, headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 409, body[:2000]
    assert "Their tasks" in body and "My tasks" in body
    assert ("<html" in body) is not htmx  # the fragment it swaps, or the page
    assert build.run(app, world, build.part_tasks, ids) == "Their tasks"
    assert int(_version(body, field)) > int(version)


def test_a_move_another_save_overtook_answers_the_board(app, world, monkeypatch):
    from portal_joint import services
    from portal_joint.models import JointAction

    ids = build.run(app, world, build.joint_action)
    version = build.run(app, world, build.column("JointAction", "version"), ids)
    client = _coordinator(app)
    original = services.move

    def other_writer_first(user, action, status, version=None):
        _other_commits(JointAction, action.id, title="Renamed meanwhile")
        return original(user, action, status, version)

    monkeypatch.setattr(services, "move", other_writer_first)
    response = client.post(
        f"/nordland/joint/actions/{ids['id']}/move",
        data={"status": "planned", "version": str(version)},
        headers={"HX-Request": "true"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 409, body[:2000]
    assert "was not moved" in body and "Renamed meanwhile" in body and "<html" not in body
    assert build.run(app, world, build.column("JointAction", "status"), ids) == "proposed"
