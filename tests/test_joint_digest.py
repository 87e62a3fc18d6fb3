"""The joint actions' sections of the people's daily digest, through the core's reminder run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date
from portal_joint import services
from portal_joint.models import JointAction
from sqlalchemy import delete, select, update

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.plans.models import ReminderSent
from portal.programmes.models import Programme
from portal.tenancy import tenant_scope, unscoped
from portal.tenancy.models import Tenant
from tests.conftest import count_queries
from tests.process_support import build_process

TODAY = date.today()
TOMORROW = TODAY + timedelta(days=1)
JOINT = Notification.kind.like("joint.%")


@pytest.fixture
def forum(app, world, factory):
    factory.enable_plugin(world["a"], "joint")
    process = build_process(app, world, actions=0)
    with app.app_context(), unscoped():  # what setting it up told people is not news here
        db.session.execute(delete(Notification))
        db.session.commit()
    return world, process


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


def _action(app, tenant_id, programme_id, clusters, title, due=None, **data):
    with app.test_request_context(), tenant_scope(tenant_id):
        programme = db.session.get(Programme, programme_id)
        action = services.create_action(
            None, programme, {"title": title, "due_date": due, **data}, clusters=clusters
        )
        return action.id


def _move(app, tenant_id, action_id, status, by="coord@a.example"):
    with app.test_request_context(), tenant_scope(tenant_id):
        actor = _user(by) if by else None
        services.move(actor, db.session.get(JointAction, action_id), status)


def _backdate(app, days=1):
    """Notices so far happened ``days`` ago."""
    with app.app_context(), unscoped():
        db.session.execute(
            update(Notification)
            .where(JOINT)
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )
        db.session.commit()


def _send(app, today):
    from portal.reminders import send_reminders

    with app.app_context():
        return send_reminders(today)


def _mails(app):
    """The digests sent."""
    with app.app_context():
        return [
            (m.recipient, m.subject, m.body)
            for m in db.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "digest")
                .order_by(OutboxMessage.id)
            )
        ]


def _counted_send(app, today):
    """A run and the statements it ran (not the delivery of its mails afterwards)."""
    from portal.reminders import send_reminders

    with app.app_context(), count_queries(app) as statements:
        counts = send_reminders(today)
    return counts, statements


def _notices(app):
    """The joint actions' notices: the core's notifications of the plugin's kinds."""
    with app.app_context(), unscoped():
        return [
            (n.recipient_id, n.kind.removeprefix("joint."), n.params["detail"], n.digested_on)
            for n in db.session.scalars(select(Notification).where(JOINT).order_by(Notification.id))
        ]


def _set_user(app, email, digest=None, **values):
    """Change a person's columns; ``digest``: whether they get the daily digest."""
    from portal.mail.preferences import KINDS, choose

    with app.app_context(), unscoped():
        if values:
            db.session.execute(update(User).where(User.email == email).values(**values))
        if digest is not None:
            user = db.session.scalar(select(User).where(User.email == email))
            choose(user, set(KINDS) if digest else set(KINDS) - {"digest"})
        db.session.commit()


def test_a_digest_lists_the_news_and_the_joint_actions_due(app, forum):
    world, process = forum
    a, clusters = world["a"].id, [world["c1"].id, world["c2"].id]
    pid = process.programme_id
    due = _action(app, a, pid, clusters, "Joint branding", TODAY + timedelta(days=3))
    far = _action(app, a, pid, clusters, "Member services", TODAY + timedelta(days=20))
    late = _action(app, a, pid, clusters, "Joint survey", TODAY - timedelta(days=2))
    _action(app, a, pid, clusters, "Finished", TODAY + timedelta(days=1), status="done")
    _action(app, a, pid, clusters, "Dropped", TODAY, status="cancelled")
    _action(app, a, pid, [world["c2"].id], "Not ours", TODAY + timedelta(days=1))
    _move(app, a, far, "planned")
    counts = _send(app, TOMORROW)
    # c1's manager; c2 has none, the coordinator made the change
    assert counts["digests"] == 1 and counts["plugin"] == 3  # the news and two actions due
    ((to, subject, body),) = _mails(app)
    assert to == "manager@a.example"
    assert subject == f"Your digest of {format_date(TOMORROW, 'long', 'en_GB')}: 3 reminders"
    assert "News about your joint actions\n" in body
    assert "- The status of “Member services” is now Planned." in body
    assert f"http://127.0.0.1:5000/nordland/joint/actions/{far}" in body
    assert "Joint actions due within 7 days or overdue\n" in body
    assert body.index("News about") < body.index("Joint actions due within")
    day = format_date(TODAY + timedelta(days=3), "long", "en_GB")
    assert f"- Joint branding ({day})\n  http" in body
    assert f"/nordland/joint/actions/{due}" in body
    assert "- Joint survey (" in body and "Overdue: not done yet" in body
    assert f"/nordland/joint/actions/{late}" in body
    for absent in ("Finished", "Dropped", "Not ours"):
        assert absent not in body
    assert "You get this daily digest because" in body
    manager_id = process.manager_id
    assert _notices(app) == [(manager_id, "status", "planned", TOMORROW)]
    with app.app_context(), unscoped():
        keys = sorted(r.key for r in db.session.scalars(select(ReminderSent)))
    assert keys == [
        f"digest:{a}:{TOMORROW.isoformat()}",
        f"joint-due:{due}:{(TODAY + timedelta(days=3)).isoformat()}",
        f"joint-overdue:{late}:{(TODAY - timedelta(days=2)).isoformat()}",
    ]
    # Each joint action once while it is due, once when it is overdue: not every day.
    assert _send(app, TOMORROW + timedelta(days=1))["digests"] == 0
    overdue = _send(app, TODAY + timedelta(days=4))
    assert overdue["digests"] == 1 and overdue["plugin"] == 1
    assert "- Joint branding (" in _mails(app)[-1][2]


def test_at_most_one_digest_a_day_and_no_news_is_lost(app, forum):
    world, process = forum
    a = world["a"].id
    first = _action(app, a, process.programme_id, [world["c1"].id], "Joint branding")
    _move(app, a, first, "planned")
    _backdate(app)  # yesterday's news
    assert _send(app, TODAY)["plugin"] == 1
    ((_to, _subject, body),) = _mails(app)
    assert "is now Planned" in body
    _move(app, a, first, "in_progress")  # today's news: tomorrow's digest
    again = _send(app, TODAY)
    assert again["plugin"] == 0 and len(_mails(app)) == 1
    assert [n[3] for n in _notices(app)] == [TODAY, None]
    assert _send(app, TOMORROW)["plugin"] == 1
    body = _mails(app)[-1][2]
    assert "is now In progress" in body and "is now Planned" not in body
    assert [n[3] for n in _notices(app)] == [TODAY, TOMORROW]
    assert _send(app, TOMORROW)["plugin"] == 0 and len(_mails(app)) == 2


def test_a_dry_run_marks_no_news_and_sends_nothing(app, forum):
    from portal.reminders import send_reminders

    world, process = forum
    a = world["a"].id
    first = _action(app, a, process.programme_id, [world["c1"].id], "Joint branding")
    _move(app, a, first, "planned")
    _backdate(app)
    planned = []
    with app.app_context():
        counts = send_reminders(TODAY, dry_run=True, planned=planned)
    assert counts["plugin"] == 1
    assert [(p.kind, p.email) for p in planned] == [("digest", "manager@a.example")]
    assert planned[0].items == (
        "News about your joint actions: The status of “Joint branding” is now Planned.",
    )
    assert _mails(app) == [] and [n[3] for n in _notices(app)] == [None]  # not marked
    assert _send(app, TODAY)["plugin"] == 1
    assert len(_mails(app)) == 1 and [n[3] for n in _notices(app)] == [TODAY]


def test_nothing_to_tell_sends_nothing(app, forum):
    world, process = forum
    _action(
        app,
        world["a"].id,
        process.programme_id,
        [world["c1"].id],
        "Far",
        TODAY + timedelta(days=30),
    )
    counts = _send(app, TOMORROW)
    assert counts["plugin"] == 0 and _mails(app) == []


def test_the_digest_speaks_each_persons_language(app, forum):
    world, process = forum
    a = world["a"].id
    action = _action(app, a, process.programme_id, [world["c1"].id], "Joint branding", TOMORROW)
    _move(app, a, action, "planned")
    _set_user(app, "manager@a.example", locale="nb")
    assert _send(app, TOMORROW)["digests"] == 1
    ((_to, subject, body),) = _mails(app)
    assert format_date(TOMORROW, "long", "nb") in subject
    assert "Planlagt" in body  # the status, worded in Norwegian
    assert "Nytt om dine felles tiltak" in body  # the section's heading
    assert "Du får dette daglige sammendraget" in body  # why, in the layout's footer


def test_switched_off_or_inactive_people_get_none_and_keep_their_news(app, forum):
    world, process = forum
    a = world["a"].id
    action = _action(app, a, process.programme_id, [world["c1"].id], "Joint branding", TOMORROW)
    _move(app, a, action, "planned")
    _set_user(app, "manager@a.example", digest=False)
    assert _send(app, TOMORROW)["plugin"] == 0 and _mails(app) == []
    assert [n[3] for n in _notices(app)] == [None]
    _set_user(app, "manager@a.example", digest=True, active=False)
    assert _send(app, TOMORROW)["plugin"] == 0 and _mails(app) == []
    _set_user(app, "manager@a.example", active=True)
    later = TOMORROW + timedelta(days=1)
    assert _send(app, later)["digests"] == 1
    assert "is now Planned" in _mails(app)[0][2]


def _other_region(app, world, factory, manager_email):
    """Region b with a programme, a cluster managed by ``manager_email``, a joint action due
    tomorrow and a notice for its manager."""
    from portal.accounts import services as accounts
    from portal.programmes.services import create_programme

    b = world["b"]
    cluster = factory.cluster(b, "Bravo Cluster")
    factory.user("coord@b.example", tenant=b, role="coordinator")
    with app.test_request_context():
        tenant = db.session.get(Tenant, b.id)
        person = _user(manager_email)
        if person is None:
            factory.user(manager_email, tenant=b, role="cluster_manager", clusters=[cluster])
        else:
            accounts.grant_role(tenant, person, Role.CLUSTER_MANAGER, [cluster.id])
            db.session.commit()
        with tenant_scope(b.id):
            programme = create_programme(
                None,
                {
                    "name": "Bravo forum",
                    "start_date": TODAY,
                    "end_date": TODAY + timedelta(days=300),
                },
                b.id,
            )
            programme_id = programme.id
    action = _action(app, b.id, programme_id, [cluster.id], "Bravo secret action", TOMORROW)
    _move(app, b.id, action, "planned", by=None)
    return b


def test_other_regions_get_none_of_it(app, world, forum, factory):
    world, process = forum
    a = world["a"].id
    action = _action(app, a, process.programme_id, [world["c1"].id], "Joint branding", TOMORROW)
    _move(app, a, action, "planned")
    b = _other_region(app, world, factory, "manager@b.example")  # the plugin is off in b
    assert _send(app, TOMORROW)["digests"] == 1
    assert [m[0] for m in _mails(app)] == ["manager@a.example"]
    assert "Bravo" not in _mails(app)[0][2]
    with app.app_context(), unscoped():  # b's news waits until b switches the plugin on
        waiting = db.session.scalars(
            select(Notification.digested_on).where(Notification.tenant_id == b.id)
        ).all()
    assert waiting == [None]
    factory.enable_plugin(b, "joint")
    later = TOMORROW + timedelta(days=1)
    assert _send(app, later)["digests"] == 2  # a's manager (due, overdue now) and b's
    mails = {m[0]: m[2] for m in _mails(app)[1:]}
    assert "Bravo secret action" in mails["manager@b.example"]
    assert "/bravo/joint/actions/" in mails["manager@b.example"]
    assert "Bravo" not in mails["manager@a.example"]


def test_a_person_of_two_regions_gets_one_digest_from_each(app, world, forum, factory):
    world, process = forum
    a = world["a"].id
    action = _action(app, a, process.programme_id, [world["c1"].id], "Joint branding", TOMORROW)
    _move(app, a, action, "planned")
    b = _other_region(app, world, factory, "manager@a.example")
    factory.enable_plugin(b, "joint")
    counts = _send(app, TOMORROW)
    assert counts["digests"] == 2 and counts["conflicts"] == 0
    bodies = sorted(m[2] for m in _mails(app))
    assert sum("Bravo secret action" in body for body in bodies) == 1
    assert sum("Joint branding" in body for body in bodies) == 1
    again = _send(app, TOMORROW)
    assert again["digests"] == 0 and again["plugin"] == 0


def test_queries_do_not_grow_with_actions_notices_or_people(app, world, forum, factory):
    world, process = forum
    a = world["a"].id
    c1, c2 = world["c1"].id, world["c2"].id
    first = _action(app, a, process.programme_id, [c1], "First", TOMORROW)
    _move(app, a, first, "planned")
    counts, few = _counted_send(app, TOMORROW)
    assert counts["digests"] == 1
    for i in range(3):
        factory.user(
            f"manager{i}@a.example",
            tenant=world["a"],
            role="cluster_manager",
            clusters=[world["c2"]],
        )
    ids = [
        _action(
            app, a, process.programme_id, [c1, c2], f"Action {i}", TODAY + timedelta(days=i % 9)
        )
        for i in range(25)
    ]
    for action_id in ids[:10]:
        _move(app, a, action_id, "planned")
    with app.app_context(), unscoped():  # a fresh start: everything goes out again
        db.session.execute(delete(ReminderSent))
        db.session.execute(delete(OutboxMessage))
        db.session.execute(update(Notification).where(JOINT).values(digested_on=None))
        db.session.commit()
    counts, many = _counted_send(app, TOMORROW)
    assert counts["digests"] == 4  # c1's manager and c2's three
    assert len(many) == len(few), "\n".join(s[:90] for s in many)


def test_news_stays_unmarked_when_another_run_claimed_the_day(app, forum):
    """The marks are committed with the claims and the mail, or not at all."""
    from portal.mail.services import send_mail

    world, process = forum
    a = world["a"].id
    first = _action(app, a, process.programme_id, [world["c1"].id], "Joint branding")
    _move(app, a, first, "planned")
    _backdate(app)
    with app.app_context():  # another run's digest of the day, for the same person
        key = f"digest:{a}:{process.manager_id}:{TODAY.isoformat()}"
        send_mail("manager@a.example", "Another run's", "body", kind="digest", key=key)
        db.session.commit()
    counts = _send(app, TODAY)
    assert counts["conflicts"] == 1 and counts["digests"] == 0
    assert [n[3] for n in _notices(app)] == [None]  # the news waits for the next digest
    assert _send(app, TOMORROW)["digests"] == 1
    assert "is now Planned" in _mails(app)[-1][2]
