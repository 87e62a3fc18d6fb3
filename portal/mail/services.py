"""Sending mail: SMTP when configured, else the log. Every message lands in the outbox."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from portal.extensions import db
from portal.mail.models import OutboxMessage

log = logging.getLogger(__name__)


def send_mail(recipient: str, subject: str, body: str) -> OutboxMessage:
    """Send now and keep a copy; the caller commits the session."""
    config = current_app.config
    message = OutboxMessage(recipient=recipient, subject=subject, body=body, transport="log")
    if config.get("MAIL_SERVER"):
        message.transport = "smtp"
        try:
            _send_smtp(recipient, subject, body)
        except (OSError, smtplib.SMTPException) as exc:
            log.exception("SMTP delivery to %s failed", recipient)
            message.error = f"{type(exc).__name__}: {exc}"[:1000]
    else:
        log.info("mail to %s: %s\n%s", recipient, subject, body)
    db.session.add(message)
    return message


def _send_smtp(recipient: str, subject: str, body: str) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = recipient
    email["Subject"] = subject
    email.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(email)
