"""Workshop communications (portal.workshops.comms): invitations, confirmations, the waiting
list, changes, a cancellation and coordinators' messages, each sent once per person and change
to the right people, with calendar files that calendar apps follow (same UID, growing
SEQUENCE), and the workshop page's record of who was told what.

Delivery goes through a real SMTP server on loopback (tests/mail_support.py)."""

from __future__ import annotations

from datetime import date, time, timedelta
from email import message_from_bytes

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from portal.accounts.models import Membership, User
from portal.extensions import db
from portal.mail import preferences
from portal.mail.models import OutboxMessage
from portal.tenancy import tenant_scope, unscoped
from portal.workshops import comms, services
from portal.workshops.models import Workshop
from portal.workshops.notices import WorkshopNotice
from tests.conftest import count_queries, login
from tests.mail_support import smtp_fixture  # noqa: F401 - the fixture `smtp`

COORD, MANAGER, MEMBER, OBSERVER = (
    "coord@a.example",
    "manager@a.example",
    "member@a.example",
    "observer@a.example",
)


@pytest.fixture
def mail_app(make_app, world, smtp):
    """The app delivering through the loopback SMTP server (the world made by another app)."""
    return make_app(smtp.config())


def _workshop(app, tenant, *, capacity=None, days=10) -> int:
    with app.test_request_context(), tenant_scope(tenant.id):
        return services.create_workshop(
            None,
            {
                "title": "Silver workshop",
                "day": date.today() + timedelta(days=days),
                "start_time": time(9, 30),
                "end_time": time(15, 0),
                "location": "Bodø",
                "capacity": capacity,
            },
            tenant.id,
        ).id


def _user_id(app, email) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def _kinds(app, workshop_id) -> list[tuple[str, str]]:
    """(person's e-mail, what) of every notice, oldest first."""
    with app.app_context(), unscoped():
        return [
            tuple(row)
            for row in db.session.execute(
                select(User.email, WorkshopNotice.what)
                .join(User, User.id == WorkshopNotice.user_id)
                .where(WorkshopNotice.workshop_id == workshop_id)
                .order_by(WorkshopNotice.id)
            )
        ]


def _delivered(smtp) -> list[tuple[str, str, Calendar | None]]:
    """(recipient, subject, calendar or None) of each mail the SMTP server got."""
    found = []
    for envelope in smtp.messages:
        email = message_from_bytes(envelope.content)
        calendar = None
        for part in email.walk():
            if part.get_content_type() == "text/calendar":
                calendar = Calendar.from_ical(part.get_payload(decode=True))
                assert part.get_param("method") == str(calendar["method"])
        found.append((envelope.rcpt_tos[0], str(email["Subject"]), calendar))
    return found


def _event(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def _invite(client, wid, *, clusters=(), people=()):
    response = client.post(
        f"/nordland/workshops/{wid}/invites",
        data={"cluster_ids": list(clusters), "user_ids": list(people)},
    )
    assert response.status_code == 302, response.data[-800:]


# --- invitations ------------------------------------------------------------------------------


def test_invitations_reach_the_invited_once_with_a_calendar_request(mail_app, world, smtp):
    wid = _workshop(mail_app, world["a"])
    client = mail_app.test_client()
    login(client, COORD)
    # The manager works for c1; the member is invited in person; the observer may not register.
    _invite(
        client,
        wid,
        clusters=[world["c1"].id],
        people=[_user_id(mail_app, MEMBER), _user_id(mail_app, OBSERVER)],
    )
    delivered = _delivered(smtp)
    assert sorted(to for to, _s, _c in delivered) == [MANAGER, MEMBER]
    for _to, subject, calendar in delivered:
        assert subject == "Invitation: Silver workshop"
        assert str(calendar["method"]) == "REQUEST"
        event = _event(calendar)
        assert str(event["uid"]) == f"workshop-{wid}@nordland.cluster-forum-portal"
        assert int(event["sequence"]) == 0 and "organizer" in event
    body = _outbox(mail_app)[0].body
    assert f"/nordland/workshops/{wid}#registration" in body and "sign in" in body
    # The member's cluster invited later: nobody is invited twice.
    _invite(client, wid, clusters=[world["c2"].id])
    assert len(smtp.messages) == 2
    assert sorted(_kinds(mail_app, wid)) == [(MANAGER, "invitation"), (MEMBER, "invitation")]
    keys = {m.key for m in _outbox(mail_app)}
    assert keys == {f"workshop:{wid}:invitation:{_user_id(mail_app, e)}" for e in (MANAGER, MEMBER)}


def test_the_register_link_asks_to_sign_in_and_registration_stays_a_post(mail_app, world):
    wid = _workshop(mail_app, world["a"])
    client = mail_app.test_client()
    page = client.get(f"/nordland/workshops/{wid}")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.get(f"/nordland/workshops/{wid}/register").status_code == 405


# --- registration, the waiting list, a seat ---------------------------------------------------


def test_registration_is_confirmed_and_the_waiting_list_says_no_calendar_yet(mail_app, world, smtp):
    wid = _workshop(mail_app, world["a"], capacity=1)
    coordinator = mail_app.test_client()
    login(coordinator, COORD)
    _invite(coordinator, wid, clusters=[world["c1"].id, world["c2"].id])
    smtp.messages.clear()
    manager, member = mail_app.test_client(), mail_app.test_client()
    login(manager, MANAGER)
    login(member, MEMBER)
    assert manager.post(f"/nordland/workshops/{wid}/register").status_code == 302
    assert member.post(f"/nordland/workshops/{wid}/register").status_code == 302
    (seat, waiting) = _delivered(smtp)
    assert seat[0] == MANAGER and seat[1] == "You are registered: Silver workshop"
    assert str(seat[2]["method"]) == "REQUEST"
    assert _event(seat[2])["attendee"].params["PARTSTAT"] == "ACCEPTED"
    assert waiting[0] == MEMBER and waiting[1] == "On the waiting list: Silver workshop"
    assert waiting[2] is None
    assert "no calendar file yet" in _outbox(mail_app)[-1].body
    # The manager gives the seat up: the member moves up, with the calendar file.
    assert manager.post(f"/nordland/workshops/{wid}/cancel").status_code == 302
    to, subject, calendar = _delivered(smtp)[-1]
    assert (to, subject) == (MEMBER, "You have a seat: Silver workshop")
    assert _delivered(smtp)[-2][:2] == (MANAGER, "Your registration is cancelled: Silver workshop")
    assert str(_event(calendar)["uid"]) == f"workshop-{wid}@nordland.cluster-forum-portal"
    # Registering again is a new request: confirmed again, once.
    assert manager.post(f"/nordland/workshops/{wid}/register").status_code == 302
    assert manager.post(f"/nordland/workshops/{wid}/register").status_code == 302
    assert _kinds(mail_app, wid)[-5:] == [
        (MANAGER, "registered"),
        (MEMBER, "waitlisted"),
        (MANAGER, "withdrawn"),  # the calendar entry taken out again
        (MEMBER, "seat"),
        (MANAGER, "waitlisted"),
    ]
    assert len(smtp.messages) == 5


# --- changes ----------------------------------------------------------------------------------


def _register(app, tenant, wid, *emails):
    with app.test_request_context(), tenant_scope(tenant.id):
        workshop = db.session.get(Workshop, wid)
        for email in emails:
            user = db.session.scalar(select(User).where(User.email == email))
            services.register(user, workshop)


def _invite_by_service(app, tenant, wid, cluster_id=None, user_id=None):
    with app.test_request_context(), tenant_scope(tenant.id):
        services.invite(
            None,
            db.session.get(Workshop, wid),
            cluster_ids=[cluster_id] if cluster_id else [],
            user_ids=[user_id] if user_id else [],
        )


def _change(app, tenant, wid, **values):
    with app.test_request_context(), tenant_scope(tenant.id):
        services.update_workshop(None, db.session.get(Workshop, wid), values)


def test_a_change_tells_the_registered_with_the_same_uid_and_a_higher_sequence(
    mail_app, world, smtp
):
    wid = _workshop(mail_app, world["a"], capacity=1)
    _invite_by_service(mail_app, world["a"], wid, world["c1"].id)
    _register(mail_app, world["a"], wid, COORD, MANAGER)  # the manager waits
    smtp.messages.clear()
    _change(mail_app, world["a"], wid, location="Mo i Rana", start_time=time(10))
    (update,) = _delivered(smtp)
    assert update[0] == COORD and update[1] == "Changed: Silver workshop"
    event = _event(update[2])
    assert str(update[2]["method"]) == "REQUEST" and int(event["sequence"]) == 1
    assert str(event["uid"]) == f"workshop-{wid}@nordland.cluster-forum-portal"
    assert "Mo i Rana" in str(event["location"])
    body = _outbox(mail_app)[-1].body
    assert "What changed: Time, Place." in body and "Mo i Rana" in body
    # What calendar apps need not follow raises nothing and tells nobody.
    _change(mail_app, world["a"], wid, title="Silver workshop", description="More")
    assert len(smtp.messages) == 1
    _change(mail_app, world["a"], wid, capacity=5)  # the manager gets a seat, nothing changed
    assert _delivered(smtp)[-1][:2] == (MANAGER, "You have a seat: Silver workshop")
    # An agenda item added: a new sequence, to both of them now.
    with mail_app.test_request_context(), tenant_scope(world["a"].id):
        version = db.session.get(Workshop, wid).version
        services.add_agenda_item(None, db.session.get(Workshop, wid), {"title": "Welcome"})
        db.session.expire_all()
        workshop = db.session.get(Workshop, wid)
        # The calendar's counter rises; the workshop's version does not (someone's minutes or
        # attendance form, read before, is not refused for an agenda item).
        assert workshop.sequence == 2 and workshop.version == version
    updates = [d for d in _delivered(smtp) if d[1].startswith("Changed")]
    assert sorted((to, int(_event(c)["sequence"])) for to, _s, c in updates) == [
        (COORD, 1),
        (COORD, 2),
        (MANAGER, 2),
    ]
    # The calendar download carries the sequence too.
    client = mail_app.test_client()
    login(client, COORD)
    ics = Calendar.from_ical(client.get(f"/nordland/workshops/{wid}.ics").data)
    assert int(_event(ics)["sequence"]) == 2
    # Each names its time zone, and carries it (VTIMEZONE, RFC 5545).
    assert [str(z["tzid"]) for z in ics.walk("VTIMEZONE")] == ["Europe/Oslo"]
    assert [str(z["tzid"]) for z in updates[-1][2].walk("VTIMEZONE")] == ["Europe/Oslo"]


def test_a_change_also_moves_the_invitation_in_the_calendars_of_the_invited(mail_app, world, smtp):
    """The invited who have not registered hold the invitation's calendar entry: they get the
    update too (needs action); whoever cancelled their registration does not."""
    wid = _workshop(mail_app, world["a"])
    _invite_by_service(mail_app, world["a"], wid, user_id=_user_id(mail_app, MEMBER))
    _register(mail_app, world["a"], wid, COORD)
    smtp.messages.clear()
    _change(mail_app, world["a"], wid, location="Mo i Rana")
    told = {to: _event(c) for to, subject, c in _delivered(smtp) if subject.startswith("Changed")}
    assert sorted(told) == [COORD, MEMBER]
    assert all(int(e["sequence"]) == 1 for e in told.values())
    assert "PARTSTAT=NEEDS-ACTION" in told[MEMBER].to_ical().decode()


def test_whoever_cancels_their_seat_gets_it_out_of_their_calendar(mail_app, world, smtp):
    wid = _workshop(mail_app, world["a"], capacity=1)
    _invite_by_service(mail_app, world["a"], wid, world["c1"].id)
    _register(mail_app, world["a"], wid, COORD, MANAGER)  # the manager waits
    smtp.messages.clear()
    for email in (MANAGER, COORD):  # a place on the waiting list held no calendar entry
        with mail_app.test_request_context(), tenant_scope(world["a"].id):
            user = db.session.scalar(select(User).where(User.email == email))
            services.cancel(user, db.session.get(Workshop, wid))
    (withdrawn,) = [d for d in _delivered(smtp) if d[1].startswith("Your registration")]
    assert withdrawn[:2] == (COORD, "Your registration is cancelled: Silver workshop")
    assert str(withdrawn[2]["method"]) == "CANCEL"
    assert str(_event(withdrawn[2])["uid"]) == f"workshop-{wid}@nordland.cluster-forum-portal"
    assert (COORD, "withdrawn") in _kinds(mail_app, wid)


# --- cancelling -------------------------------------------------------------------------------


def test_a_coordinator_cancels_and_everyone_concerned_gets_a_calendar_cancel(mail_app, world, smtp):
    wid = _workshop(mail_app, world["a"], capacity=1)
    coordinator = mail_app.test_client()
    login(coordinator, COORD)
    _invite(
        coordinator,
        wid,
        clusters=[world["c1"].id],
        people=[_user_id(mail_app, OBSERVER), _user_id(mail_app, MEMBER)],
    )
    # The coordinator (registered, not invited) has the seat; the member waits.
    _register(mail_app, world["a"], wid, COORD, MEMBER)
    _change(mail_app, world["a"], wid, location="Mo i Rana")
    smtp.messages.clear()
    manager = mail_app.test_client()
    login(manager, MANAGER)
    url = f"/nordland/workshops/{wid}/cancel-workshop"
    assert manager.post(url, data={"cancelling-note": "No"}).status_code == 403
    response = coordinator.post(url, data={"cancelling-note": "The venue burnt down."})
    assert response.status_code == 302
    delivered = _delivered(smtp)
    assert sorted(to for to, _s, _c in delivered) == [COORD, MANAGER, MEMBER]
    for _to, subject, calendar in delivered:
        assert subject == "Cancelled: Silver workshop"
        event = _event(calendar)
        assert str(calendar["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
        assert str(event["uid"]) == f"workshop-{wid}@nordland.cluster-forum-portal"
        assert int(event["sequence"]) == 2  # one change, then the cancellation
    assert "The venue burnt down." in _outbox(mail_app)[-1].body
    with mail_app.app_context(), unscoped():
        workshop = db.session.get(Workshop, wid)
        assert workshop.cancelled_at is not None and workshop.sequence == 2
        assert workshop.cancelled_by_id == _user_id(mail_app, COORD)
    page = coordinator.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "This workshop is cancelled." in page and "The venue burnt down." in page
    assert 'badge-red">Cancelled' in coordinator.get("/nordland/workshops/").get_data(as_text=True)
    # Registration is closed, and a second cancellation is refused (and sends nothing).
    assert manager.post(f"/nordland/workshops/{wid}/register").status_code == 302
    assert coordinator.post(url, data={}).status_code == 302
    assert len(smtp.messages) == 3
    with mail_app.app_context(), unscoped():
        registered = db.session.scalar(
            select(func.count())
            .select_from(WorkshopNotice)
            .where(WorkshopNotice.what == "registered")
        )
    assert registered == 1  # the coordinator's; the manager was refused


# --- messages ---------------------------------------------------------------------------------


def test_a_coordinator_writes_to_the_registered_or_the_invited(mail_app, world, smtp):
    wid = _workshop(mail_app, world["a"])
    coordinator = mail_app.test_client()
    login(coordinator, COORD)
    _invite(coordinator, wid, clusters=[world["c1"].id, world["c2"].id])
    _register(mail_app, world["a"], wid, MEMBER)
    smtp.messages.clear()
    url = f"/nordland/workshops/{wid}/message"
    data = {"message-subject": "Bring slides", "message-text": "Ten minutes each."}
    member = mail_app.test_client()
    login(member, MEMBER)
    assert member.post(url, data={**data, "message-audience": "registered"}).status_code == 403
    response = coordinator.post(url, data={**data, "message-audience": "registered"})
    assert response.status_code == 302
    assert [(to, s) for to, s, _c in _delivered(smtp)] == [
        (MEMBER, "Silver workshop: Bring slides")
    ]
    assert "Ten minutes each." in _outbox(mail_app)[-1].body
    # The same words to everyone invited: only those who did not get them yet.
    coordinator.post(url, data={**data, "message-audience": "invited"})
    assert sorted(to for to, _s, _c in _delivered(smtp)) == [MANAGER, MEMBER]
    again = coordinator.post(
        url, data={**data, "message-audience": "invited"}, follow_redirects=True
    )
    assert b"got this message already" in again.data and len(smtp.messages) == 2
    bad = coordinator.post(url, data={"message-subject": "", "message-audience": "everyone"})
    assert bad.status_code == 422 and len(smtp.messages) == 2


# --- who gets nothing -------------------------------------------------------------------------


def test_people_who_switched_workshop_mail_off_or_are_deactivated_get_none(
    mail_app, world, factory, smtp
):
    extra = factory.user(
        "extra@a.example", tenant=world["a"], role="member", clusters=[world["c1"]]
    )
    gone = factory.user("gone@a.example", tenant=world["a"], role="member", clusters=[world["c1"]])
    with mail_app.app_context():
        manager = db.session.scalar(select(User).where(User.email == MANAGER))
        preferences.choose(manager, set(preferences.KINDS) - {"workshops"})
        db.session.get(User, extra.id).active = False
        with unscoped():
            membership = db.session.scalar(select(Membership).where(Membership.user_id == gone.id))
            membership.active = False
        db.session.commit()
    wid = _workshop(mail_app, world["a"])
    coordinator = mail_app.test_client()
    login(coordinator, COORD)
    _invite(coordinator, wid, clusters=[world["c1"].id, world["c2"].id])
    assert [to for to, _s, _c in _delivered(smtp)] == [MEMBER]
    coordinator.post(
        f"/nordland/workshops/{wid}/message",
        data={"message-subject": "Hi", "message-text": "All", "message-audience": "invited"},
    )
    assert [to for to, _s, _c in _delivered(smtp)] == [MEMBER, MEMBER]
    assert {e for e, _w in _kinds(mail_app, wid)} == {MEMBER}


# --- the record -------------------------------------------------------------------------------


def test_the_workshop_page_shows_coordinators_who_was_told_what(mail_app, world, factory):
    wid = _workshop(mail_app, world["a"])
    for i in range(12):
        factory.user(
            f"p{i:02d}@a.example", tenant=world["a"], role="member", clusters=[world["c1"]]
        )
    coordinator = mail_app.test_client()
    login(coordinator, COORD)
    _invite(coordinator, wid, clusters=[world["c1"].id])
    page = coordinator.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "Who was told" in page and "All 13 mails" in page
    assert page.count(">Invitation<") == comms_views_on_page()
    full = coordinator.get(f"/nordland/workshops/{wid}/told?per_page=5&page=3")
    assert full.status_code == 200 and full.get_data(as_text=True).count(">Invitation<") == 3
    member = mail_app.test_client()
    login(member, MEMBER)
    assert "Who was told" not in member.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert member.get(f"/nordland/workshops/{wid}/told").status_code == 403


def comms_views_on_page() -> int:
    from portal.workshops.comms_views import TOLD_ON_PAGE

    return TOLD_ON_PAGE


def test_invitations_load_people_in_one_query_whatever_their_number(app, world, factory):
    """Reading stays the same for 3 or 29 people (people in one query, mails rendered once per
    language); writing is one outbox row and one notice per person. (The delivery that runs
    after the commit in this process is the outbox's, tests/test_jobs.py, and left out.)"""
    small, large = _workshop(app, world["a"]), _workshop(app, world["a"], days=11)
    for i in range(30):
        cluster = world["c1"] if i < 2 else world["c2"]
        factory.user(f"q{i:02d}@a.example", tenant=world["a"], role="member", clusters=[cluster])
    client = app.test_client()
    login(client, COORD)
    reads, writes = [], []
    for wid, cluster in ((small, world["c1"]), (large, world["c2"])):
        with count_queries(app) as statements:
            _invite(client, wid, clusters=[cluster.id])
        mine = [
            s
            for s in (" ".join(s.split()) for s in statements)
            if not s.startswith(("SELECT outbox_message.id,", "UPDATE outbox_message"))
        ]
        reads.append(sum(s.startswith("SELECT") for s in mine))
        writes.append(sum(s.startswith("INSERT") for s in mine))
    assert len(_kinds(app, small)) == 3 and len(_kinds(app, large)) == 29
    assert reads[0] == reads[1], reads
    assert writes[1] - writes[0] <= 2 * (29 - 3), writes


# --- a rolled-back change ---------------------------------------------------------------------


def test_a_rolled_back_change_sends_nothing(mail_app, world, smtp):
    from portal.workshops.models import WorkshopInvite

    wid = _workshop(mail_app, world["a"])
    with mail_app.test_request_context(), tenant_scope(world["a"].id):
        workshop = db.session.get(Workshop, wid)
        db.session.add(
            WorkshopInvite(tenant_id=world["a"].id, workshop_id=wid, cluster_id=world["c1"].id)
        )
        assert comms.send_invitations(workshop) == 1
        db.session.flush()
        db.session.rollback()
    assert smtp.messages == [] and _outbox(mail_app) == [] and _kinds(mail_app, wid) == []
