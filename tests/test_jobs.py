"""The outbox and its delivery: no message lost, none sent twice, none for a rolled-back change.

A real SMTP server on loopback fails on purpose (tests/mail_support.py); delivery runs in the
web process (no broker) here, by real Celery workers in tests/test_jobs_celery.py.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.db import utcnow
from portal.extensions import db
from portal.mail.delivery import sweep
from portal.mail.models import OutboxMessage, Status
from portal.mail.services import send_mail
from tests.conftest import free_port, login
from tests.mail_support import smtp_fixture  # noqa: F401 - the fixture `smtp`

FAST_RETRIES = {"MAIL_RETRY_DELAYS": [0, 0]}  # three tries, each due at once


def _forgot(app, email="coord@a.example"):
    response = app.test_client().post("/password/forgot", data={"email": email})
    assert response.status_code == 302


def _messages(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def test_a_committed_message_is_delivered_right_after_the_commit(make_app, world, smtp):
    app = make_app(smtp.config())
    _forgot(app)
    assert len(smtp.messages) == 1 and smtp.messages[0].rcpt_tos == ["coord@a.example"]
    (message,) = _messages(app)
    assert message.status == Status.SENT and message.attempts == 1 and message.sent_at
    assert smtp.message_ids() == [f"<portal-outbox-{message.id}@localhost>"]


def test_a_rolled_back_change_sends_nothing(make_app, world, smtp):
    app = make_app(smtp.config())
    with app.test_request_context():
        send_mail("coord@a.example", "Never", "This change is rolled back.")
        db.session.flush()
        db.session.rollback()
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0
    assert smtp.messages == []


def test_no_mail_is_lost_while_smtp_is_down(make_app, world, smtp):
    """The server away (connection refused), then refusing (451): the message waits and is
    retried with backoff; once the server takes it, it is sent exactly once."""
    app = make_app(smtp.config() | FAST_RETRIES)
    smtp.stop()
    _forgot(app)
    (message,) = _messages(app)
    assert message.status == Status.PENDING and message.attempts == 1
    assert "Connection" in message.error
    smtp.start()
    smtp.refuse = True
    with app.app_context():
        assert sweep() == {"sent": 0, "failed": 1, "skipped": 0}
    (message,) = _messages(app)
    assert message.status == Status.PENDING and "451" in message.error and smtp.messages == []
    smtp.refuse = False
    with app.app_context():
        assert sweep()["sent"] == 1
        assert sweep() == {"sent": 0, "failed": 0, "skipped": 0}  # nothing is due any more
    assert len(smtp.messages) == 1
    (message,) = _messages(app)
    assert message.status == Status.SENT and message.attempts == 3 and message.error == ""


def test_retries_wait_their_turn(make_app, world, smtp):
    app = make_app(smtp.config() | {"MAIL_RETRY_DELAYS": [60, 300]})
    smtp.refuse = True
    _forgot(app)
    (message,) = _messages(app)
    wait = message.next_attempt_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
    assert timedelta(seconds=50) < wait <= timedelta(seconds=60)
    with app.app_context():
        assert sweep() == {"sent": 0, "failed": 0, "skipped": 0}  # not due yet


def test_after_the_last_try_a_dead_letter_the_admin_retries(make_app, world, smtp):
    app = make_app(smtp.config() | FAST_RETRIES)
    smtp.refuse = True
    _forgot(app)
    with app.app_context():
        sweep()
        sweep()
        assert sweep() == {"sent": 0, "failed": 0, "skipped": 0}
    (message,) = _messages(app)
    assert message.status == Status.DEAD and message.attempts == 3
    admin = app.test_client()
    login(admin, "admin@portal.example")
    page = admin.get("/admin/outbox?status=dead").get_data(as_text=True)
    assert "Reset your password" in page and "dead letter" in page
    smtp.refuse = False
    coordinator = app.test_client()
    login(coordinator, "coord@a.example")
    retry = f"/admin/outbox/{message.id}/retry"
    assert coordinator.post(retry).status_code == 403
    assert admin.post(retry).status_code == 302
    assert len(smtp.messages) == 1
    (message,) = _messages(app)
    assert message.status == Status.SENT
    assert admin.post(retry).status_code == 409  # only a dead letter is retried


def test_a_delivery_that_died_is_taken_over_once_its_claim_lapses(make_app, world, smtp):
    """Claimed and never marked (its process died): the sweep sends it after the claim."""
    app = make_app(smtp.config())
    smtp.stop()
    _forgot(app)
    smtp.start()
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        message.status, message.claimed_until = Status.SENDING, utcnow() + timedelta(minutes=5)
        db.session.commit()
        assert sweep()["sent"] == 0  # someone else's claim
        message = db.session.scalars(select(OutboxMessage)).one()
        message.claimed_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert sweep()["sent"] == 1
    assert len(smtp.messages) == 1


def test_the_same_key_is_queued_once(app, world):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with app.test_request_context():
        send_mail("coord@a.example", "Once", "body", key="reminder:1")
        db.session.commit()
        send_mail("coord@a.example", "Once", "body", key="reminder:1")
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_html_and_attachments_go_with_the_message(make_app, world, smtp):
    from email import message_from_bytes

    app = make_app(smtp.config())
    with app.test_request_context():
        send_mail(
            "coord@a.example",
            "Invitation",
            "Plain words",
            html="<p>Rich words</p>",
            attachments=[
                {
                    "filename": "invite.ics",
                    "content_type": "text/calendar; method=REQUEST",
                    "text": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                }
            ],
        )
        db.session.commit()
    assert len(smtp.messages) == 1
    email = message_from_bytes(smtp.messages[0].content)
    types = [part.get_content_type() for part in email.walk()]
    assert "text/plain" in types and "text/html" in types and "text/calendar" in types
    calendar = next(p for p in email.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "REQUEST" and calendar.get_filename() == "invite.ics"


def test_an_unreachable_broker_loses_nothing(make_app, world, smtp):
    """A broker that cannot be reached: the message waits in the outbox for the sweep."""
    config = smtp.config() | {"BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}
    app = make_app(config | {"BROKER_TIMEOUT": 0.5})
    _forgot(app)
    (message,) = _messages(app)
    assert message.status == Status.PENDING and smtp.messages == []
    with app.app_context():
        assert sweep()["sent"] == 1
    assert len(smtp.messages) == 1


def test_without_a_broker_a_timer_retries_what_failed(make_app, world, smtp):
    """The embedded mode's own sweeper (a thread of the web process): no cron, no worker."""
    import time

    from portal.jobs import start_sweeper, stop_sweeper

    app = make_app(smtp.config() | {"MAIL_RETRY_DELAYS": [0], "OUTBOX_SWEEP_SECONDS": 0.2})
    smtp.refuse = True
    _forgot(app)
    assert _messages(app)[0].status == Status.PENDING
    smtp.refuse = False
    start_sweeper(app)
    try:
        deadline = time.monotonic() + 20
        while _messages(app)[0].status != Status.SENT:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        stop_sweeper(app)
    assert len(smtp.messages) == 1


def test_one_refused_address_does_not_hold_up_the_others(make_app, world, smtp):
    """The server refuses one recipient (550): that message waits for its retry, the next one
    of the same batch goes out."""
    app = make_app(smtp.config())
    smtp.unknown = {"gone@a.example"}
    with app.test_request_context():
        send_mail("gone@a.example", "First", "to nobody")
        send_mail("coord@a.example", "Second", "to someone")
        db.session.commit()
    assert [m.rcpt_tos for m in smtp.messages] == [["coord@a.example"]]
    first, second = _messages(app)
    assert first.status == Status.PENDING and "550" in first.error
    assert second.status == Status.SENT


def test_the_delivery_never_commits_what_the_request_left_uncommitted(make_app, world, smtp):
    """A request commits its mail, then adds something it never commits (e.g. a hook that
    failed after the commit): delivering the mail must not write that."""
    from portal.tenancy.models import Tenant

    app = make_app(smtp.config())
    with app.test_request_context():
        send_mail("coord@a.example", "Committed", "body")
        db.session.commit()
        db.session.add(Tenant(slug="never", name="Never committed"))
        db.session.flush()
    assert len(smtp.messages) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Tenant.slug == "never")) == 0
