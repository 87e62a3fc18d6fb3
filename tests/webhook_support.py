"""A real HTTP receiver for webhooks (http.server in a thread, on a free loopback port) that
records what it gets and answers what the test tells it; and helpers to make a region's events
through the real services."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import login

# A region's webhooks may call loopback in these tests (and http, which the receiver speaks).
WEBHOOK_CONFIG = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True, "WEBHOOK_ALLOW_HTTP": True}
ALL_EVENTS = ["label.awarded", "label.expiring", "round.confirmed", "action.done"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """``answers``: the status of each next request in turn (then ``default``); ``redirect``:
    the Location sent with a 3xx; ``on_request``: called with each request before answering."""

    server: ThreadingHTTPServer | None = None
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    default: int = 200
    redirect: str = ""
    on_request: object = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/portal"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                if receiver.on_request is not None:
                    receiver.on_request()
                status = receiver.answers.pop(0) if receiver.answers else receiver.default
                self.send_response(status)
                if 300 <= status < 400 and receiver.redirect:
                    self.send_header("Location", receiver.redirect)
                answer = b"ok" if status < 300 else b"receiver says no"
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def wait_for(self, count: int, seconds: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"got {len(self.received)} of {count}"
            time.sleep(0.05)
        return self.received


@pytest.fixture(name="receiver")
def receiver_fixture():
    started = Receiver().start()
    yield started
    started.stop()


def add_webhook(client, url: str, events=ALL_EVENTS, **extra) -> int:
    """Through the page, as a coordinator signed in on ``client``; the new webhook's id."""
    data = {"url": url, "description": "Funder dashboard", "events": events, "active": "y"}
    response = client.post("/nordland/settings/webhooks/new", data=data | extra)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def coordinator_client(app):
    client = app.test_client()
    login(client, "coord@a.example")
    return client


def secret_of(app, webhook_id: int) -> str:
    from portal.extensions import db
    from portal.tenancy import unscoped
    from portal.webhooks.models import Webhook

    with app.app_context(), unscoped():
        return db.session.get(Webhook, webhook_id).signing_secret


def enter_rounds(app, tenant_id: int, cluster_id: int, score: float = 3.0) -> None:
    """Two confirmed benchmarkings 12 months apart, both valid today (as tests/test_labels)."""
    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.labels.scheme import add_months
    from portal.tenancy import tenant_scope

    newest = add_months(date.today(), -9)
    with app.test_request_context(), tenant_scope(tenant_id):
        cluster = db.session.get(Cluster, cluster_id)
        indicator_set = rounds.find_set("esca-gold", "2013")
        for on in (add_months(newest, -12), newest):
            values = {i.id: (score, "") for i in indicator_set.indicators}
            rounds.save_round(None, cluster, indicator_set, {"held_on": on}, values)


def award_bronze(app, tenant_id: int, cluster_id: int, on: date | None = None) -> int:
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.labels import services as labels
    from portal.labels.registry import schemes
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(tenant_id):
        cluster = db.session.get(Cluster, cluster_id)
        scheme = schemes()[("esca", "2020")][1]
        label = labels.award(None, cluster, scheme, "bronze", on or date.today())
        return label.id


def plan_with_action(app, tenant_id: int, cluster_id: int) -> int:
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.plans import services as plans
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(tenant_id):
        plan = plans.create_plan(
            None,
            {
                "title": "Plan 2030",
                "start_date": date.today(),
                "end_date": date.today() + timedelta(days=365),
            },
            tenant_id=tenant_id,
            cluster=db.session.get(Cluster, cluster_id),
        )
        return plans.create_action(None, plan, {"title": "Member survey"}).id


def locking_webhook(world) -> dict:
    """A webhook of the first region (tests/test_optimistic_locking.py's builder): a public
    address, saved only; no event is made, so nothing is ever sent to it."""
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.webhooks import services

    tenant = db.session.get(Tenant, world["a"].id)
    data = {"url": "https://93.184.215.14/first", "events": ["action.done"], "active": True}
    return {"id": services.create(None, tenant, data).id}
