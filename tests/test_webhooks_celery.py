"""A real Celery worker (`portal worker`) delivers webhook events through Redis to a real
receiver on loopback: the web process only hands the delivery to the broker after its commit."""

from __future__ import annotations

import time

from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import unscoped
from portal.webhooks.models import WebhookDelivery
from tests.test_jobs_celery import REDIS_BROKER, Worker, _require, queue  # noqa: F401
from tests.test_webhooks_delivery import _finish, signed_by
from tests.webhook_support import (  # noqa: F401 - the fixture `receiver`
    WEBHOOK_CONFIG,
    add_webhook,
    coordinator_client,
    plan_with_action,
    receiver_fixture,
    secret_of,
)


def _real_time() -> int:
    """The real clock (the worker's), also when PORTAL_TEST_TODAY moves this process's."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", "import time; print(int(time.time()))"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    return int(out.stdout)


class NoMail:
    """The worker's mail settings: none (this test sends no mail)."""

    def env(self) -> dict:
        return {}


def _status(app) -> str | None:
    with app.app_context(), unscoped():
        status = db.session.scalar(select(WebhookDelivery.status))
        db.session.remove()
        return status


def test_a_worker_delivers_a_webhook_through_redis(
    make_app,
    world,
    db_url,
    tmp_path,
    queue,  # noqa: F811 - the fixture of tests/test_jobs_celery.py
    receiver,
):
    _require(REDIS_BROKER)
    name, used = queue
    used.append(REDIS_BROKER)
    app = make_app(WEBHOOK_CONFIG | {"BROKER_URL": REDIS_BROKER, "BROKER_QUEUE": name})
    env = {"PORTAL_WEBHOOK_ALLOW_PRIVATE_TARGETS": "1", "PORTAL_WEBHOOK_ALLOW_HTTP": "1"}
    worker = Worker(db_url, REDIS_BROKER, name, NoMail(), tmp_path, **env).start()
    worker_clock = _real_time()
    try:
        hook = add_webhook(coordinator_client(app), receiver.url, events=["action.done"])
        _finish(app, world, plan_with_action(app, world["a"].id, world["c1"].id))
        (received,) = receiver.wait_for(1, seconds=30)
        deadline = time.monotonic() + 15
        while _status(app) != "delivered":
            assert time.monotonic() < deadline, worker.log.read_text()
            time.sleep(0.2)
        log = worker.log.read_text()
    finally:
        worker.stop()
    assert "portal.webhooks.deliver" in log  # the worker sent it, not the web process
    # Signed with the webhook's secret; the time window is not checked here: the worker keeps
    # the real clock, as another host would, while PORTAL_TEST_TODAY moves this process's.
    assert signed_by(secret_of(app, hook), received)
    payload = received.json
    assert payload["type"] == "action.done" and payload["region"] == "nordland"
    assert abs(int(received.headers["webhook-timestamp"]) - worker_clock) < 300
