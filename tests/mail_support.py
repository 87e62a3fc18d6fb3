"""A real SMTP server on loopback (aiosmtpd) that can refuse, fail, or hang on purpose."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from tests.conftest import free_port


@dataclass
class SmtpServer:
    port: int
    messages: list = field(default_factory=list)
    refuse: bool = False  # answer 451 (try later) to every message
    hang_seconds: float = 0.0  # sit on each recipient this long (a delivery to kill)
    unknown: set = field(default_factory=set)  # addresses answered "550 no such user"
    controller: object = None

    def config(self) -> dict:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_USE_TLS": False}

    def env(self) -> dict:
        return {
            "PORTAL_SMTP_HOST": "127.0.0.1",
            "PORTAL_SMTP_PORT": str(self.port),
            "PORTAL_SMTP_TLS": "0",
        }

    def message_ids(self) -> list[str]:
        from email import message_from_bytes

        return [message_from_bytes(m.content)["Message-ID"] for m in self.messages]

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        server = self

        class Handler:
            async def handle_RCPT(self, _server, _session, envelope, address, _options):  # noqa: N802
                if server.hang_seconds:
                    await asyncio.sleep(server.hang_seconds)
                if address in server.unknown:
                    return "550 No such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, _server, _session, envelope):  # noqa: N802
                if server.refuse:
                    return "451 Try again later"
                server.messages.append(envelope)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(name="smtp")
def smtp_fixture():
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()
