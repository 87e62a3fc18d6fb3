"""The joint actions' import: the export re-imports without loss (into the same programme it
changes nothing; into another one, as new joint actions, it gives the same table), only the
file's columns change, bad rows are refused with their row and column. The steps (check,
confirm once, 404, expiry, translations) are tested with the other imports in
tests/test_plugin_imports.py."""

from __future__ import annotations

import html
from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.conftest import login
from tests.import_support import check, confirm, token_of
from tests.test_imports import _count
from tests.test_plugin_imports import _joint_action, _programme

pytest.importorskip("portal_joint")


# --- round trips: the joint actions' export re-imports without loss ---------------------------


def _tricky_programme(app, world, factory) -> tuple[int, int]:
    """A programme with joint actions whose text a spreadsheet would misread, and an empty
    programme with the same clusters."""
    from portal_joint import services
    from portal_joint.models import Participation

    from portal.accounts.models import User

    factory.enable_plugin(world["a"], "joint")
    factory.user("lead@a.example", tenant=world["a"], role="member", clusters=[world["c2"]])
    programme_id = _programme(app, world, "Forum 2025")
    empty_id = _programme(app, world, "Copy of the forum")
    c1, c2 = world["c1"].id, world["c2"].id
    first = _joint_action(
        app,
        world,
        programme_id,
        {
            "title": "Felles merkevare – 'sitat' 日本",
            "aim": "Mål: én historie\r\nfor alle klyngene, æøå\tog tabulator",
            "start_date": date(2025, 1, 6),
            "due_date": date(2025, 9, 30),
            "budget_money": "12345.5",
            "budget_hours": "10.5",
            "lead_cluster_id": c1,
        },
        [c1, c2],
    )
    second = _joint_action(app, world, programme_id, {"title": "=SUM(A1:A2) is no formula"})
    _joint_action(
        app, world, programme_id, {"title": "007", "aim": "-3", "due_date": date(2025, 9, 30)}, [c2]
    )
    with app.test_request_context(), tenant_scope(world["a"].id):
        lead = db.session.scalar(select(User).where(User.email == "lead@a.example"))
        action = services.move(None, db.session.get(services.JointAction, first), "in_progress")
        services.update_action(None, action, {"lead_user_id": lead.id})
        services.move(None, db.session.get(services.JointAction, second), "cancelled")
        parts = db.session.scalars(select(Participation).where(Participation.action_id == first))
        for n, part in enumerate(parts):
            data = {
                "tasks": "'quoted' and =1+1\nsecond line",
                "progress": 40 + n,
                "status": "in_progress",
                "hours_spent": "7.5",
                "money_spent": "3000",
                "solo_hours": "0",
                "owner_id": lead.id,
            }
            if n:
                data.update({"solo_money": "8000.25", "status": "blocked"})
            services.update_part(None, part, data)
            if n:
                part.left_on = date(2025, 6, 1)
        db.session.commit()
    return programme_id, empty_id


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_joint_actions_export_and_reimport_without_loss(app, client, world, factory, fmt):
    from tests.test_import_round_trips import _table

    programme_id, empty_id = _tricky_programme(app, world, factory)
    login(client, "coord@a.example")
    export = f"/nordland/joint/export.{fmt}?programme={programme_id}"
    exported = client.get(export)
    header, rows = _table(app, exported.data)
    assert header[:3] == ["action_id", "title", "status"] and len(rows) == 4
    # into the same programme: every row is as it is, nothing changes
    checked = check(
        client, f"/nordland/joint/import?programme={programme_id}", exported.data, f"export.{fmt}"
    )
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200, text[-3000:]
    assert "New joint actions: 0, changed: 0, unchanged: 3." in text
    confirmed = confirm(
        client, f"/nordland/joint/import/confirm?programme={programme_id}", token_of(checked)
    )
    assert confirmed.status_code == 302
    again = client.get(export)
    if fmt == "csv":
        assert again.data == exported.data
    assert _table(app, again.data) == (header, rows)
    # into another programme as new joint actions: the same table but for the ids
    checked = check(
        client,
        f"/nordland/joint/import?programme={empty_id}",
        exported.data,
        f"export.{fmt}",
        as_new="y",
    )
    assert checked.status_code == 200, checked.get_data(as_text=True)[-3000:]
    assert "New joint actions: 3, changed: 0" in checked.get_data(as_text=True)
    confirmed = confirm(
        client, f"/nordland/joint/import/confirm?programme={empty_id}", token_of(checked)
    )
    assert confirmed.status_code == 302
    copy = client.get(f"/nordland/joint/export.{fmt}?programme={empty_id}")
    copy_header, copied = _table(app, copy.data)
    assert copy_header == header
    assert [r[1:] for r in copied] == [r[1:] for r in rows]
    texts = {v for r in copied for k, v in zip(header, r, strict=False) if k in ("aim", "tasks")}
    assert "Mål: én historie\r\nfor alle klyngene, æøå\tog tabulator" in texts
    assert "'quoted' and =1+1\nsecond line" in texts


def test_joint_import_changes_only_what_the_file_says_and_refuses_bad_rows(
    app, client, world, factory
):
    from portal_joint.models import JointAction, Participation

    programme_id, _empty = _tricky_programme(app, world, factory)
    login(client, "coord@a.example")
    url = f"/nordland/joint/import?programme={programme_id}"
    with app.app_context(), tenant_scope(world["a"].id):
        first = db.session.scalar(select(JointAction.id).where(JointAction.title.like("Felles%")))
    bad = [
        ("action_id,title\n999999,X\n", "action_id", "is not a joint action of this programme"),
        ("title,status\nA,doing\n", "status", "Unknown status “doing”. Use one of: proposed"),
        ("title,lead_email\nA,nobody@x.example\n", "lead_email", "is not a person of this region"),
        ("title,lead_email\nA,observer@a.example\n", "lead_email", "observers and assessors"),
        ("title,cluster\nA,Nowhere\n", "cluster", "There is no cluster named “Nowhere”"),
        ("title,cluster,part_progress\nA,Arctic Minerals,140\n", "part_progress", "Between 0"),
        ("title,cluster,cluster\nA,B,C\n", None, "A column appears twice"),
        ("title,start_date,due_date\nA,2025-05-01,2025-04-01\n", "due_date", "cannot be before"),
        ("title,budget_money\nA,lots\n", "budget_money", "Enter a number"),
        ("title,cluster\nA,Arctic Minerals\nA,Arctic Minerals\n", "cluster", "appears twice"),
        ("title,aim\nA,one\nA,two\n", "aim", "must be the same in each of its rows"),
        ("title,tasks\nA,orphan task\n", "cluster", "The cluster is missing"),
        (f"action_id,title\n{first},\n", "title", "A joint action needs a title"),
    ]
    before = _count(app, Participation), _count(app, JointAction)
    for content, column, message in bad:
        response = check(client, url, content.encode())
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 422 and message in page, (content, page[-2000:])
        if column:
            assert f"<td>{column}</td>" in page
        assert token_of(response) is None
    assert (_count(app, Participation), _count(app, JointAction)) == before
    # a file with only some columns changes only those
    response = check(client, url, f"action_id,title,status\n{first},Nytt navn,done\n".encode())
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "in_progress</del> → <ins>done" in page
    assert (
        confirm(client, url.replace("/import", "/import/confirm"), token_of(response)).status_code
        == 302
    )
    with app.app_context(), tenant_scope(world["a"].id):
        action = db.session.get(JointAction, first)
        assert (action.title, action.status.value, action.budget_money) == (
            "Nytt navn",
            "done",
            12345.5,
        )
        assert len(action.parts) == 2
    client.post("/logout")
    login(client, "manager@a.example")
    assert client.get(url).status_code == 403


def test_a_checked_joint_file_waits_on_the_front_page_with_a_link_to_its_page(
    app, client, world, factory
):
    """The plugin registers its import kind's page (toolkit.register_import_kind): the
    coordinator's "waiting for you" links the file checked and not confirmed to it."""
    programme_id, _empty = _tricky_programme(app, world, factory)
    login(client, "coord@a.example")
    exported = client.get(f"/nordland/joint/export.csv?programme={programme_id}")
    url = f"/nordland/joint/import?programme={programme_id}"
    checked = check(client, url, exported.data, "export.csv")
    assert checked.status_code == 200
    front = client.get("/nordland/").get_data(as_text=True)
    assert f'<li><a href="{url}">' in front, front[front.find("fp-waiting") :][:900]


def test_a_large_joint_file_is_checked_and_written_by_a_job(
    app, client, world, factory, monkeypatch
):
    """The plugin registers a job factory: a large upload is checked by a job, confirmed on
    its page, written by the job, which links back to the programme's joint actions."""
    programme_id, empty_id = _tricky_programme(app, world, factory)
    monkeypatch.setitem(app.config, "IMPORT_CHECK_JOB_BYTES", 100)
    monkeypatch.setitem(app.config, "IMPORT_JOBS_IN_REQUEST", True)
    login(client, "coord@a.example")
    exported = client.get(f"/nordland/joint/export.csv?programme={programme_id}")
    url = f"/nordland/joint/import?programme={empty_id}"
    response = check(client, url, exported.data, "export.csv", as_new="y")
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    job_page = response.headers["Location"]
    page = client.get(job_page).get_data(as_text=True)
    assert "rows checked: no problems" in page
    assert f'href="/nordland/joint/?programme={empty_id}"' in page
    assert client.post(job_page + "/confirm").status_code == 303
    page = client.get(job_page).get_data(as_text=True)
    assert "The file is imported. New joint actions: 3, changed: 0." in page
    listed = client.get(f"/nordland/joint/export.csv?programme={empty_id}").get_data(as_text=True)
    assert "=SUM(A1:A2) is no formula" in listed
