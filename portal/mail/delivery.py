"""Delivering the outbox: each message claimed, sent, and marked, with retries and dead letters.

A message is claimed by one conditional UPDATE (``pending`` and due, or ``sending`` whose
claim has lapsed because its delivery died) that only one delivery can win, on SQLite and
PostgreSQL alike; so two workers, a task delivered twice by the broker, or the sweep racing a
task never send the same message twice. It is marked sent in its own commit right after the
SMTP server accepted it. A delivery that dies before that leaves the claim to lapse
(``MAIL_CLAIM_SECONDS``, well above the SMTP timeout) and the sweep tries again; the stable
``Message-ID`` lets the receiving side recognise the one copy that could then arrive twice.
Claims compare the clocks of the hosts that deliver: keep them in time (NTP); the claim is
minutes long, far above any drift.

A failed try waits ``MAIL_RETRY_DELAYS[n]`` seconds before the next; after the last one the
message is a dead letter, shown to the platform admin, who may retry it.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app
from sqlalchemy import and_, or_, select, update

from portal.db import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage, Status

log = logging.getLogger(__name__)
DEFAULT_RETRY_DELAYS = (60, 300, 1800, 7200, 21600)
# Errors of the connection, not of one message: the rest of the batch waits for the sweep.
# (smtplib's errors are OSErrors too: the server's answers about one message are caught
# before these.)
CONNECTION_ERRORS = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
)


def retry_delays() -> tuple[float, ...]:
    return tuple(current_app.config.get("MAIL_RETRY_DELAYS") or DEFAULT_RETRY_DELAYS)


def max_tries() -> int:
    return len(retry_delays()) + 1


def _due_condition(now):
    # A message never tried is due at once, whatever the clocks of the web host (which wrote
    # it) and the worker's host say; retries wait for their time.
    return or_(
        and_(
            OutboxMessage.status == Status.PENDING,
            or_(OutboxMessage.attempts == 0, OutboxMessage.next_attempt_at <= now),
        ),
        and_(OutboxMessage.status == Status.SENDING, OutboxMessage.claimed_until < now),
    )


def due_ids(limit: int = 200) -> list[int]:
    """Messages waiting for a try now (new, retrying, or left by a delivery that died)."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(_due_condition(now))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


def _claim(message_id: int) -> OutboxMessage | None:
    """This delivery's message, or None when it is not due (sent, dead, someone else's)."""
    now = utcnow()
    seconds = float(current_app.config.get("MAIL_CLAIM_SECONDS") or 300)
    won = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due_condition(now))
        .values(
            status=Status.SENDING,
            claimed_until=now + timedelta(seconds=seconds),
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if won != 1:
        return None
    return db.session.get(OutboxMessage, message_id, populate_existing=True)


def _mark(message: OutboxMessage, error: str | None) -> None:
    now = utcnow()
    if error is None:
        values = {"status": Status.SENT, "sent_at": now, "error": "", "claimed_until": None}
    else:
        delays = retry_delays()
        if message.attempts >= len(delays) + 1:
            values = {"status": Status.DEAD, "error": error[:2000], "claimed_until": None}
        else:
            wait = delays[message.attempts - 1]
            values = {
                "status": Status.PENDING,
                "next_attempt_at": now + timedelta(seconds=wait),
                "error": error[:2000],
                "claimed_until": None,
            }
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == Status.SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def message_id_header(message: OutboxMessage) -> str:
    sender = current_app.config.get("MAIL_SENDER") or "portal@localhost"
    domain = sender.rsplit("@", 1)[-1].strip(">") or "localhost"
    return f"<portal-outbox-{message.id}@{domain}>"


def as_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = message_id_header(message)
    email.set_content(message.body)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for part in message.attachments or ():
        maintype, _slash, subtype = part.get("content_type", "text/plain").partition("/")
        params = {}
        if "method=" in subtype:  # text/calendar; method=REQUEST
            subtype, _semi, method = subtype.partition(";")
            params["method"] = method.split("=", 1)[1].strip()
            subtype = subtype.strip()
        email.add_attachment(
            part["text"].encode("utf-8"),
            maintype=maintype,
            subtype=subtype or "plain",
            filename=part.get("filename") or "attachment.txt",
            params=params,
        )
    return email


class _Connection:
    """One SMTP connection for a batch, opened on the first message that needs it."""

    def __init__(self):
        self.smtp: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        config = current_app.config
        if self.smtp is None:
            timeout = float(config.get("MAIL_TIMEOUT") or 20)
            smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
            try:
                if config.get("MAIL_USE_TLS"):
                    smtp.starttls()
                if config.get("MAIL_USERNAME"):
                    smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        self.smtp.send_message(email)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def deliver(message_ids: Iterable[int]) -> dict[str, int]:
    """Try each message that is due; returns how many were sent, failed, or not due."""
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    connection = _Connection()
    try:
        for message_id in message_ids:
            message = _claim(message_id)
            if message is None:
                counts["skipped"] += 1
                continue
            error = _send(message, connection)
            _mark(message, error)
            counts["sent" if error is None else "failed"] += 1
            if error is not None and error.startswith("connection:"):
                connection.close()
                break  # the server is away: the rest waits for the sweep
    finally:
        connection.close()
        db.session.remove()
    return counts


def _send(message: OutboxMessage, connection: _Connection) -> str | None:
    """None when sent, else why not (``connection: ...`` when the server is away)."""
    if message.transport != "smtp" or not current_app.config.get("MAIL_SERVER"):
        log.info("mail to %s: %s\n%s", message.recipient, message.subject, message.body)
        return None
    try:
        connection.send(as_email(message))
    except CONNECTION_ERRORS as exc:
        return _away(message, connection, exc)
    except smtplib.SMTPException as exc:  # the server refused this message (e.g. 550, 451)
        log.warning("SMTP refused message %s to %s: %s", message.id, message.recipient, exc)
        return f"{type(exc).__name__}: {exc}"
    except OSError as exc:  # refused, timed out, reset: the server is away
        return _away(message, connection, exc)
    except Exception as exc:  # noqa: BLE001 - a message that cannot be built: tried, counted
        log.exception("message %s cannot be sent", message.id)
        return f"{type(exc).__name__}: {exc}"
    return None


def _away(message: OutboxMessage, connection: _Connection, exc: BaseException) -> str:
    log.warning("SMTP server unreachable for message %s: %s", message.id, exc)
    connection.close()
    return f"connection: {type(exc).__name__}: {exc}"


def sweep(limit: int = 200) -> dict[str, int]:
    """Deliver whatever is due (the schedule's job; the embedded mode's timer)."""
    return deliver(due_ids(limit))


def retry(message: OutboxMessage) -> None:
    """A dead letter gets another round of tries (the platform admin's button)."""
    message.status = Status.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claimed_until = None
