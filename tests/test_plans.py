"""Improvement plans and actions."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.plans.models import Action, ActionStatus
from portal.tenancy import unscoped
from tests.conftest import count_queries, login
from tests.data.uploads import corpus as upload_corpus
from tests.locking_support import version_on
from tests.process_support import TODAY, build_process


@pytest.fixture
def process(app, world):
    return build_process(app, world)


def _action(app, action_id):
    with app.app_context(), unscoped():
        a = db.session.get(Action, action_id)
        owner = a.owner.name if a.owner else "–"
        return {
            "status": a.status,
            "progress": a.progress,
            "version": a.version,
            "title": a.title,
            "owner": owner,
        }


def test_plan_page_lists_actions_with_progress_and_timeline(client, process):
    login(client, "observer@a.example")
    page = client.get(f"/nordland/plans/{process.plan_id}").get_data(as_text=True)
    assert "Action 000" in page and "Action 002" in page
    assert 'class="timeline-svg"' in page and "How is progress computed?" in page
    assert "Save</button>" not in page  # observers read only


def test_filters_and_sorting(client, process, app):
    login(client, "coord@a.example")
    base = f"/nordland/plans/{process.plan_id}"
    overdue = client.get(base + "?overdue=1").get_data(as_text=True)
    assert "Action 000" in overdue and "Action 002" not in overdue
    mine = client.get(base + f"?owner={process.member_id}").get_data(as_text=True)
    assert "Action 001" in mine and "Action 000" not in mine
    fragment = client.get(
        base + "?sort=-due", headers={"HX-Request": "true", "HX-Target": "actions"}
    )
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and text.index("Action 002") < text.index("Action 000")
    assert client.get(base + "?status=nonsense&sort=nonsense&owner=x&page=-3").status_code == 200


def test_inline_status_edit_with_htmx_and_without(client, process, app):
    login(client, "manager@a.example")
    action_id = process.action_ids[0]
    version = _action(app, action_id)["version"]
    response = client.post(
        f"/nordland/actions/{action_id}/quick",
        headers={"HX-Request": "true"},
        data={"status": "in_progress", "progress": "40", "version": str(version)},
    )
    assert response.status_code == 200 and '<tr id="action-' in response.get_data(as_text=True)
    assert _action(app, action_id)["progress"] == 40
    # The row as saved (with its new version to post next), not as it was before.
    row = response.get_data(as_text=True)
    assert 'name="progress" min="0" max="100" value="40"' in row
    assert f'name="version" value="{version + 1}"' in row
    plain = client.post(
        f"/nordland/actions/{action_id}/quick",
        data={"status": "done", "progress": "40", "version": str(version + 1)},
    )
    assert plain.status_code == 302
    assert (
        _action(app, action_id)["status"] == ActionStatus.DONE
        and _action(app, action_id)["progress"] == 100
    )


def test_concurrent_edits_never_lose_an_update(client, process, app):
    login(client, "manager@a.example")
    action_id = process.action_ids[0]
    version = _action(app, action_id)["version"]
    first = client.post(
        f"/nordland/actions/{action_id}/quick",
        headers={"HX-Request": "true"},
        data={"status": "in_progress", "progress": "30", "version": str(version)},
    )
    assert first.status_code == 200
    second = client.post(
        f"/nordland/actions/{action_id}/quick",
        headers={"HX-Request": "true"},
        data={"status": "blocked", "progress": "5", "version": str(version)},
    )
    assert second.status_code == 409
    assert "Someone else changed this action" in second.get_data(as_text=True)
    # The row shows the action as stored, not the refused form's values.
    assert 'max="100" value="30"' in second.get_data(as_text=True)
    assert _action(app, action_id)["progress"] == 30  # the first writer's update stands
    form = client.post(
        f"/nordland/actions/{action_id}/edit",
        data={
            "title": "Renamed",
            "status": "planned",
            "progress": "0",
            "priority": "normal",
            "weight": "1",
            "version": str(version),
        },
    )
    assert form.status_code == 409
    text = form.get_data(as_text=True)
    assert "Not saved" in text and "30 %" in text  # shows the current values
    owner = _action(app, action_id)["owner"]
    assert f"<dd>{owner}</dd>" in text  # the owner's name, read only for the notice
    assert _action(app, action_id)["title"] == "Action 000"


def test_stale_data_in_the_database_is_a_conflict_too(app, process):
    """Two sessions that both read version 1: the second commit is refused by the version column."""
    from portal.errors import ConflictError
    from portal.plans import services
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(1):
        action = db.session.get(Action, process.action_ids[1])
        db.session.commit()  # end the read; the other writer gets the database
        with db.engine.begin() as other_writer:
            other_writer.execute(
                Action.__table__.update()
                .where(Action.id == action.id)
                .values(version=action.version + 1, progress=77)
            )
        with pytest.raises(ConflictError) as caught:
            services.update_action(None, action, {"progress": 12}, expected_version=action.version)
        assert caught.value.current["progress"] == 77


def test_permissions_on_actions(client, process, app):
    login(client, "member@a.example")
    own, other = process.action_ids[1], process.action_ids[0]  # action 1 is the member's
    version = _action(app, own)["version"]
    assert (
        client.post(
            f"/nordland/actions/{own}/quick", data={"status": "done", "version": str(version)}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/nordland/actions/{other}/quick", data={"status": "done", "version": "1"}
        ).status_code
        == 403
    )
    assert client.get(f"/nordland/plans/{process.plan_id}/actions/new").status_code == 403
    assert client.post(f"/nordland/actions/{own}/delete").status_code == 403
    client.post("/logout")
    login(client, "manager@a.example")
    assert client.get(f"/nordland/plans/{process.plan_id}/actions/new").status_code == 200
    assert (
        client.get(f"/nordland/plans/{process.joint_id}/actions/new").status_code == 403
    )  # joint: coordinators
    client.post("/logout")
    login(client, "observer@a.example")
    assert client.post(f"/nordland/actions/{own}/comments", data={"body": "hi"}).status_code == 403


def test_create_action_validates_and_writes_nothing_on_error(client, process, app):
    login(client, "manager@a.example")
    with app.app_context(), unscoped():
        before = db.session.query(Action).count()
    url = f"/nordland/plans/{process.plan_id}/actions/new"
    for data in (
        {"title": ""},
        {"title": "X", "progress": "101"},
        {"title": "X", "weight": "0"},
        {"title": "X", "start_date": "2026-05-01", "due_date": "2026-04-01"},
        {"title": "X", "owner_id": "99999"},
        {"title": "X", "status": "finished"},
    ):
        payload = {
            "status": "planned",
            "priority": "normal",
            "weight": "1",
            "progress": "0",
            **data,
        }
        assert client.post(url, data=payload).status_code == 422, data
    with app.app_context(), unscoped():
        assert db.session.query(Action).count() == before
    ok = client.post(
        url,
        data={
            "title": "Member survey",
            "status": "planned",
            "priority": "high",
            "weight": "2",
            "progress": "0",
            "due_date": (TODAY + timedelta(days=9)).isoformat(),
        },
    )
    assert ok.status_code == 302


def test_progress_rolls_up_weighted(app, process):
    from portal.plans import progress, services
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(1):
        for action_id, status, value, weight in (
            (process.action_ids[0], "done", 0, 3),
            (process.action_ids[1], "in_progress", 50, 1),
            (process.action_ids[2], "cancelled", 90, 5),
        ):
            action = db.session.get(Action, action_id)
            services.update_action(
                None,
                action,
                {"status": status, "progress": value, "weight": weight},
                expected_version=None,
            )
        result = progress.plans_progress([process.plan_id])[process.plan_id]
        assert result.actions == 2 and result.done == 1
        assert result.percent == pytest.approx((3 * 100 + 1 * 50) / 4)
        whole = progress.programme_progress(process.programme_id)
        assert whole.actions == 3  # the joint plan's action counts too
        assert progress.plans_progress([]) == {}


def test_comments_mention_people_by_mail(client, process, app):
    login(client, "manager@a.example")
    action_id = process.action_ids[0]
    response = client.post(
        f"/nordland/actions/{action_id}/comments",
        data={"body": "Can you take the survey?", "mention": [str(process.member_id)]},
    )
    assert response.status_code == 302
    page = client.get(f"/nordland/actions/{action_id}").get_data(as_text=True)
    # Who was told, by name: no e-mail address on the page.
    assert "Can you take the survey?" in page and "Told: Member" in page
    assert "member@a.example" not in page
    with app.app_context():
        mail = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient == "member@a.example")
        )
    assert "Can you take the survey?" in mail.body and "/actions/" in mail.body
    empty = client.post(
        f"/nordland/actions/{action_id}/comments", data={"body": "  "}, follow_redirects=True
    )
    assert b"Write a comment first" in empty.data


def test_attachments_checked_by_content(client, process, app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    login(client, "manager@a.example")
    action_id = process.action_ids[0]
    url = f"/nordland/actions/{action_id}/attachments"
    good = client.post(
        url,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(upload_corpus.pdf()), "../../Rapport Bodø.pdf")},
    )
    assert good.status_code == 302
    bad = client.post(
        url,
        content_type="multipart/form-data",
        follow_redirects=True,
        data={"file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf")},
    )
    assert b"Only PDF" in bad.data
    page = client.get(f"/nordland/actions/{action_id}").get_data(as_text=True)
    assert "Rapport Bodø.pdf" in page and "../" not in page
    from portal.files.models import StoredFile

    with app.app_context(), unscoped():
        stored = db.session.scalar(select(StoredFile))
    download = client.get(f"/nordland/actions/{action_id}/attachments/{stored.id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "attachment" in download.headers["Content-Disposition"]
    assert (
        client.get(f"/nordland/actions/{process.action_ids[1]}/attachments/{stored.id}").status_code
        == 404
    )


def test_history_shows_who_changed_what(client, process, app):
    login(client, "manager@a.example")
    action_id = process.action_ids[0]
    version = _action(app, action_id)["version"]
    client.post(
        f"/nordland/actions/{action_id}/quick",
        data={"status": "blocked", "progress": "20", "version": str(version)},
    )
    page = client.get(f"/nordland/actions/{action_id}").get_data(as_text=True)
    assert "Manager" in page and "Status: Planned → Blocked" in page
    assert "manager@a.example" not in page.split('id="history-heading"')[1]


def test_my_work(client, process):
    login(client, "manager@a.example")
    page = client.get("/nordland/my-work").get_data(as_text=True)
    assert "Action 000" in page and "Joint branding" in page and "Action 001" not in page
    assert "overdue" in page


def test_plan_create_edit_delete(client, process, world):
    login(client, "manager@a.example")
    new = client.post(
        f"/nordland/plans/new?cluster_id={world['c1'].id}",
        data={"title": "Second plan", "start_date": "2026-01-01", "end_date": "2026-12-31"},
    )
    assert new.status_code == 302
    wrong = client.post(
        f"/nordland/plans/new?cluster_id={world['c1'].id}",
        data={"title": "Backwards", "start_date": "2026-12-31", "end_date": "2026-01-01"},
    )
    assert wrong.status_code == 422
    assert client.get(f"/nordland/plans/new?cluster_id={world['c2'].id}").status_code == 403
    # Without saying what for, it asks (tests/test_daily_fixes.py): their own cluster only.
    chooser = client.get("/nordland/plans/new")
    assert chooser.status_code == 200 and "What is the plan for?" in chooser.get_data(as_text=True)
    plan_url = new.headers["Location"]
    data = {"title": "Second plan v2", "start_date": "2026-01-01", "end_date": "2026-12-31"}
    version = version_on(client, plan_url + "/edit")
    assert client.post(plan_url + "/edit", data={**data, "version": version}).status_code == 302
    assert client.post(plan_url + "/delete").status_code == 302
    page = client.get(f"/nordland/clusters/{world['c1'].id}").get_data(as_text=True)
    assert "Arctic plan" in page and "Second plan" not in page


def test_plan_page_queries_do_not_grow(make_app, world, app):
    """A plan with 500 actions (paged) costs the same queries as one with 3."""
    small = build_process(app, world, actions=3)
    client = app.test_client()
    login(client, "coord@a.example")
    url = f"/nordland/plans/{small.plan_id}"
    client.get(url)
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    from portal.plans.models import Action as A
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(world["a"].id):
        db.session.add_all(
            A(
                tenant_id=world["a"].id,
                plan_id=small.plan_id,
                title=f"Bulk {i}",
                owner_id=small.manager_id,
                due_date=TODAY + timedelta(days=i % 90),
            )
            for i in range(500)
        )
        db.session.commit()
    with count_queries(app) as many:
        assert client.get(url).status_code == 200
    with count_queries(app) as page_five:
        assert client.get(url + "?page=5").status_code == 200
    assert len(few) == len(many) == len(page_five), (len(few), len(many))
    for path in ("/nordland/my-work", f"/nordland/programmes/{small.programme_id}"):
        with count_queries(app) as q1:
            client.get(path)
        with app.test_request_context(), tenant_scope(world["a"].id):
            db.session.add_all(
                A(
                    tenant_id=world["a"].id,
                    plan_id=small.plan_id,
                    title=f"More {i}",
                    owner_id=small.manager_id,
                    due_date=TODAY - timedelta(days=1),
                )
                for i in range(50)
            )
            db.session.commit()
        with count_queries(app) as q2:
            client.get(path)
        assert len(q1) == len(q2), path


def test_a_plan_without_title_or_period_is_refused_by_the_service(app, world):
    """The forms and the API ask first; the service says so too instead of failing in the
    database, and writes nothing."""
    from sqlalchemy import func

    from portal.errors import ServiceError
    from portal.plans import services
    from portal.plans.models import Plan

    with app.test_request_context(), unscoped():
        before = db.session.scalar(select(func.count()).select_from(Plan))
        with pytest.raises(ServiceError) as refused:
            services.create_plan(
                None,
                {"title": "Growth", "end_date": TODAY + timedelta(days=90)},
                tenant_id=world["a"].id,
                cluster=world["c1"],
            )
        assert set(refused.value.field_errors) == {"start_date"}
        assert db.session.scalar(select(func.count()).select_from(Plan)) == before
