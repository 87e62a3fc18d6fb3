"""The notification centre: each kind made by the real action, following, delivery per kind,
another region's or person's notification answers 404, the joint plugin's notices arrive in
the core's centre, and query counts flat in the data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from portal.accounts.models import User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification, NotificationSetting
from portal.tenancy import unscoped
from tests.conftest import count_queries
from tests.conftest import login as _login
from tests.locking_support import version_on
from tests.process_support import TODAY, build_process


@pytest.fixture
def process(app, world):
    return build_process(app, world)


@pytest.fixture
def told(app, client, process):
    """The coordinator gave the member an action: one notification of the member's."""
    login(client, "coord@a.example")
    form = _action_form(app, process.action_ids[0])
    form["owner_id"] = str(process.member_id)
    _edit_action(client, process.action_ids[0], **form)
    return _notes(app, "member@a.example", "assignment")[-1]


def login(client, email: str) -> None:
    """Sign out whoever is signed in, then sign in as ``email``."""
    client.post("/logout")
    _login(client, email)


def _user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _notes(app, email: str, kind: str | None = None) -> list[Notification]:
    with app.app_context(), unscoped():
        stmt = (
            select(Notification)
            .join(User, User.id == Notification.recipient_id)
            .where(User.email == email)
            .order_by(Notification.id)
        )
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        found = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return found


def _mails(app, email: str) -> list[OutboxMessage]:
    with app.app_context():
        found = list(
            db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email))
        )
        db.session.expunge_all()
        return found


def _choose(app, email: str, kind: str, delivery: str) -> None:
    with app.app_context():
        db.session.add(
            NotificationSetting(user_id=_user_id(app, email), kind=kind, delivery=delivery)
        )
        db.session.commit()


def _edit_action(client, action_id: int, **values) -> None:
    url = f"/nordland/actions/{action_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "version" in page
    data = {"version": version_on(client, url)}
    data.update(values)
    response = client.post(url, data=data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]


def _action_form(app, action_id: int) -> dict:
    from portal.plans.models import Action

    with app.app_context(), unscoped():
        a = db.session.get(Action, action_id)
        return {
            "title": a.title,
            "status": a.status.value,
            "priority": a.priority.value,
            "progress": str(a.progress),
            "weight": str(a.weight),
            "start_date": a.start_date.isoformat() if a.start_date else "",
            "due_date": a.due_date.isoformat() if a.due_date else "",
            "owner_id": str(a.owner_id or ""),
            "description": a.description or "",
        }


# --- each kind from the real action ------------------------------------------------------


def test_setting_an_owner_tells_them_and_the_page_lists_it(app, client, process):
    login(client, "manager@a.example")
    action_id = process.action_ids[0]  # the manager's own
    form = _action_form(app, action_id)
    form["owner_id"] = str(process.member_id)
    _edit_action(client, action_id, **form)
    told = _notes(app, "member@a.example", "assignment")
    assert told and told[-1].subject_type == "action" and told[-1].subject_id == action_id
    assert told[-1].actor_id == _user_id(app, "manager@a.example")
    assert not _notes(app, "manager@a.example", "assignment")[-1:] or all(
        n.actor_id != _user_id(app, "manager@a.example")
        for n in _notes(app, "manager@a.example", "assignment")
    )
    login(client, "member@a.example")
    page = client.get("/nordland/notifications").get_data(as_text=True)
    assert "made you the owner of the action" in page and "Action 000" in page
    assert "notification-unread" in page
    # The header says how many, for the eye and for screen readers.
    assert "Notifications, " in page and " unread" in page
    # Following the link marks it read and leads to the action.
    response = client.get(f"/nordland/notifications/{told[-1].id}")
    assert response.status_code == 302 and f"/actions/{action_id}" in response.location
    assert _notes(app, "member@a.example", "assignment")[-1].read_at is not None


def test_a_comment_mentioning_someone_tells_them_by_mail(app, client, process):
    login(client, "manager@a.example")
    action_id = process.action_ids[0]
    response = client.post(
        f"/nordland/actions/{action_id}/comments",
        data={"body": "Could you look at this?", "mention": [str(process.member_id)]},
    )
    assert response.status_code == 302
    told = _notes(app, "member@a.example", "mention")
    assert len(told) == 1 and told[0].params["excerpt"] == "Could you look at this?"
    assert told[0].delivery == "email"
    mails = [m for m in _mails(app, "member@a.example") if "mentioned you" in m.subject]
    assert len(mails) == 1 and "Could you look at this?" in mails[0].body
    assert "/actions/" in mails[0].body
    # The author is not told of their own comment.
    assert not _notes(app, "manager@a.example", "mention")


def test_a_change_to_a_watched_plan_tells_watchers_but_not_the_actor(app, client, process):
    login(client, "member@a.example")
    plan_url = f"/nordland/plans/{process.plan_id}"
    assert 'name="follow" value="1"' in client.get(plan_url).get_data(as_text=True)
    response = client.post(f"/nordland/watch/plan/{process.plan_id}", data={"follow": "1"})
    assert response.status_code == 302
    assert 'name="follow" value="0"' in client.get(plan_url).get_data(as_text=True)
    login(client, "coord@a.example")
    client.post(f"/nordland/watch/plan/{process.plan_id}", data={"follow": "1"})
    edit = f"/nordland/plans/{process.plan_id}/edit"
    page = client.get(edit)
    assert page.status_code == 200
    from portal.plans.models import Plan

    with app.app_context(), unscoped():
        plan = db.session.get(Plan, process.plan_id)
        data = {
            "title": "Arctic plan, renamed",
            "start_date": plan.start_date.isoformat(),
            "end_date": plan.end_date.isoformat(),
            "goals": plan.goals,
            "focus_areas": plan.focus_areas,
            "version": version_on(client, edit),
        }
    response = client.post(edit, data=data)
    assert response.status_code in (302, 303)
    changes = _notes(app, "member@a.example", "change")
    assert len(changes) == 1 and changes[0].params["fields"] == ["title"]
    assert not _notes(app, "coord@a.example", "change")  # the actor, though a watcher
    login(client, "member@a.example")
    page = client.get("/nordland/notifications").get_data(as_text=True)
    assert "changed “Arctic plan, renamed”: title" in page
    # Unwatching stops it.
    client.post(f"/nordland/watch/plan/{process.plan_id}", data={"follow": "0"})
    login(client, "coord@a.example")
    data["title"] = "Arctic plan again"
    data["version"] = version_on(client, edit)
    client.post(edit, data=data)
    assert len(_notes(app, "member@a.example", "change")) == 1


def test_watching_with_htmx_swaps_the_button_and_needs_a_real_subject(app, client, process, world):
    login(client, "member@a.example")
    url = f"/nordland/watch/action/{process.action_ids[1]}"
    fragment = client.post(url, data={"follow": "1"}, headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and "Following" in text
    assert client.post("/nordland/watch/action/999999", data={"follow": "1"}).status_code == 404
    assert client.post("/nordland/watch/cluster/1", data={"follow": "1"}).status_code == 404


def test_a_workshop_decision_and_an_invitation_and_an_award(app, client, process, world):
    from portal.workshops import services as workshops

    with app.test_request_context(), unscoped():
        from portal.tenancy import tenant_scope

        with tenant_scope(world["a"].id):
            workshop = workshops.create_workshop(
                None,
                {
                    "title": "Kick-off",
                    "day": TODAY + timedelta(days=20),
                    "start_time": datetime(2000, 1, 1, 9).time(),
                    "end_time": datetime(2000, 1, 1, 12).time(),
                    "programme_id": process.programme_id,
                },
                world["a"].id,
            )
            workshops.invite(None, workshop, user_ids=[process.member_id])
            workshop_id = workshop.id
    invited = _notes(app, "member@a.example", "invitation")
    assert [(n.subject_type, n.subject_id) for n in invited] == [("workshop", workshop_id)]
    login(client, "coord@a.example")
    response = client.post(
        f"/nordland/workshops/{workshop_id}/decisions",
        data={
            "decision-title": "Write the survey",
            "decision-plan_id": str(process.plan_id),
            "decision-owner_id": str(process.member_id),
            "decision-due_date": (TODAY + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    decided = _notes(app, "member@a.example", "decision")
    assert len(decided) == 1 and decided[0].params["workshop"] == "Kick-off"
    login(client, "member@a.example")
    page = client.get("/nordland/notifications").get_data(as_text=True)
    assert "A decision of the workshop “Kick-off” became your action" in page
    assert "You are invited to the workshop “Kick-off”" in page


# --- isolation ----------------------------------------------------------------------------


def test_another_regions_or_persons_notification_answers_404(
    app, client, process, world, factory, told
):
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    login(client, "manager@a.example")  # not theirs
    assert client.get(f"/nordland/notifications/{told.id}").status_code == 404
    assert client.post(f"/nordland/notifications/{told.id}/read").status_code == 404
    login(client, "coord@b.example")  # another region
    assert client.get(f"/bravo/notifications/{told.id}").status_code == 404
    assert client.post(f"/bravo/notifications/{told.id}/read").status_code == 404
    assert f"/notifications/{told.id}" not in client.get("/bravo/notifications").get_data(
        as_text=True
    )
    assert _notes(app, "member@a.example", "assignment")[0].read_at is None
    login(client, "member@a.example")
    # Under the other region's address, one's own notification is not there either.
    assert client.get(f"/bravo/notifications/{told.id}").status_code == 404
    assert client.post(f"/nordland/notifications/{told.id}/read").status_code == 302
    assert _notes(app, "member@a.example", "assignment")[0].read_at is not None


def test_mark_all_read_and_the_empty_state(app, client, process, told):
    login(client, "member@a.example")
    assert "notification-unread" in client.get("/nordland/notifications").get_data(as_text=True)
    client.post("/nordland/notifications/read")
    page = client.get("/nordland/notifications").get_data(as_text=True)
    assert "notification-unread" not in page and "notification-read" in page
    login(client, "observer@a.example")
    assert "No notifications yet" in client.get("/nordland/notifications").get_data(as_text=True)


# --- delivery per kind --------------------------------------------------------------------


def test_delivery_settings_are_honoured(app, client, process):
    _choose(app, "member@a.example", "mention", "app")
    _choose(app, "manager@a.example", "assignment", "email")
    login(client, "coord@a.example")
    action_id = process.action_ids[1]
    client.post(
        f"/nordland/actions/{action_id}/comments",
        data={"body": "Ping", "mention": [str(process.member_id)]},
    )
    assert _notes(app, "member@a.example", "mention")[-1].delivery == "app"
    assert not [m for m in _mails(app, "member@a.example") if "mentioned you" in m.subject]
    form = _action_form(app, action_id)
    form["owner_id"] = str(process.manager_id)
    _edit_action(client, action_id, **form)
    assert _notes(app, "manager@a.example", "assignment")[-1].delivery == "email"
    mails = [m for m in _mails(app, "manager@a.example") if "made you the owner" in m.subject]
    assert len(mails) == 1 and f"/actions/{action_id}" in mails[0].body


def test_the_settings_page_saves_a_choice_and_refuses_nonsense(app, client, world):
    login(client, "member@a.example")
    page = client.get("/profile/notifications").get_data(as_text=True)
    assert "Comments that mention me" in page and "In the daily digest" in page
    response = client.post("/profile/notifications", data={"kind-mention": "digest"})
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.execute(select(NotificationSetting.kind, NotificationSetting.delivery))
        assert list(rows) == [("mention", "digest")]
    bad = client.post("/profile/notifications", data={"kind-invitation": "email"})
    assert bad.status_code == 422 and "Choose one of the offered ways" in bad.get_data(as_text=True)


def test_digest_delivery_goes_into_the_daily_digest_once(app, client, process, told):
    from portal.reminders import send_reminders

    assert _notes(app, "member@a.example", "assignment")[0].delivery == "digest"
    with app.app_context(), unscoped():
        db.session.execute(
            update(Notification).values(created_at=datetime.now(UTC) - timedelta(days=1))
        )
        db.session.commit()
    with app.app_context():
        send_reminders(TODAY)
        digest = [m for m in _mails(app, "member@a.example") if m.kind == "digest"]
        assert digest and "made you the owner of the action" in digest[-1].body
        assert all(n.digested_on == TODAY for n in _notes(app, "member@a.example", "assignment"))


# --- the joint plugin posts through the core ----------------------------------------------


def test_the_joint_plugins_notices_arrive_in_the_core_centre(app, client, world, factory):
    from portal_joint import services as joint
    from portal_joint.models import JointAction

    from portal.programmes.models import Programme
    from portal.tenancy import tenant_scope

    factory.enable_plugin(world["a"], "joint")
    process = build_process(app, world)
    with app.test_request_context(), tenant_scope(world["a"].id):
        coord = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        action = joint.create_action(
            None,
            db.session.get(Programme, process.programme_id),
            {"title": "Joint branding", "due_date": None},
            clusters=[world["c1"].id, world["c2"].id],
        )
        joint.move(coord, db.session.get(JointAction, action.id), "in_progress")
        action_id = action.id
    told = _notes(app, "manager@a.example", "joint.status")
    assert len(told) == 1 and told[0].subject_type == "joint_action"
    assert told[0].delivery == "digest"  # the plugin's default, as its notices were
    login(client, "manager@a.example")
    page = client.get("/nordland/notifications").get_data(as_text=True)
    assert "The status of “Joint branding” is now In progress." in page
    response = client.get(f"/nordland/notifications/{told[0].id}")
    assert response.location.endswith(f"/nordland/joint/actions/{action_id}")
    # The plugin's old page leads to the core's.
    old = client.get("/nordland/joint/notices")
    assert old.status_code == 301 and old.location.endswith("/nordland/notifications")


# --- queries ------------------------------------------------------------------------------


def _grow(app, tenant_id: int, recipient_id: int, subject_ids: list[int], n: int) -> None:
    with app.app_context(), unscoped():
        db.session.add_all(
            Notification(
                tenant_id=tenant_id,
                recipient_id=recipient_id,
                kind=kind,
                subject_type="action",
                subject_id=subject_ids[i % len(subject_ids)],
                actor_id=recipient_id,
                params={"fields": ["status"], "title": "x"},
            )
            for i in range(n)
            for kind in ("change", "assignment")
        )
        db.session.commit()


def test_query_counts_do_not_grow_with_notifications(app, client, process, world):
    member = _user_id(app, "member@a.example")
    login(client, "member@a.example")
    urls = ["/nordland/notifications", "/nordland/notifications?page=2", "/nordland/clusters/"]

    def measure():
        found = {}
        for url in urls:
            with count_queries(app) as statements:
                assert client.get(url).status_code == 200
            found[url] = len(statements)
        return found

    _grow(app, world["a"].id, member, process.action_ids, 15)  # 30: two pages
    client.get("/nordland/")
    small = measure()
    _grow(app, world["a"].id, member, process.action_ids, 300)
    large = measure()
    assert small == large, (small, large)
    assert small["/nordland/notifications"] <= 12, small
