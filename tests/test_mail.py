"""Mail goes by SMTP when configured (a real SMTP server on loopback), else to the log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.conftest import free_port


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    class Collect(Sink):
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append(envelope)
            return "250 OK"

    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler.messages
    controller.stop()


def test_reset_mail_is_sent_by_smtp(make_app, world, smtp_server):
    port, received = smtp_server
    app = make_app({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False})
    response = app.test_client().post("/password/forgot", data={"email": "coord@a.example"})
    assert response.status_code == 302
    assert len(received) == 1 and received[0].rcpt_tos == ["coord@a.example"]
    assert b"/password/reset/" in received[0].content
    with app.app_context():
        kept = db.session.scalar(select(OutboxMessage))
    assert kept.transport == "smtp" and kept.error == ""


def test_smtp_failure_is_recorded_and_the_user_is_not_told(make_app, world):
    app = make_app({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(), "MAIL_USE_TLS": False})
    response = app.test_client().post("/password/forgot", data={"email": "coord@a.example"})
    assert response.status_code == 302
    with app.app_context():
        kept = db.session.scalar(select(OutboxMessage))
    assert kept.transport == "smtp" and "Connection" in kept.error


def test_without_smtp_mail_goes_to_the_outbox_only_admins_see(client, world, app):
    from tests.conftest import login

    client.post("/password/forgot", data={"email": "member@a.example"})
    login(client, "coord@a.example")
    assert client.get("/admin/outbox").status_code == 403
    client.post("/logout")
    login(client, "admin@portal.example")
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "member@a.example" in page and "Reset your password" in page
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id))
    assert "/password/reset/" in client.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
