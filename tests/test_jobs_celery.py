"""Real Celery workers (`portal worker`) deliver the outbox through real brokers: Redis (and
once RabbitMQ) on this machine, to a real SMTP server on loopback. A worker killed in the
middle of a delivery neither loses the message nor lets it go out twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.jobs import broker
from portal.mail.models import OutboxMessage, Status
from tests.mail_support import smtp_fixture  # noqa: F401 - the fixture `smtp`

REDIS_BROKER = os.environ.get("PORTAL_TEST_BROKER_URL", "redis://127.0.0.1:6379/13")
RABBIT_BROKER = os.environ.get("PORTAL_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _reachable(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
        return True
    except Exception:  # noqa: BLE001 - any failure: not reachable
        return False


def _require(url: str) -> None:
    """CI (PORTAL_TEST_REQUIRE_BROKERS=1) starts the brokers: there, a missing one fails."""
    if not _reachable(url):
        if os.environ.get("PORTAL_TEST_REQUIRE_BROKERS"):
            pytest.fail(f"no broker at {url}")
        pytest.skip(f"no broker at {url}")


class Worker:
    """`portal worker` in its own process, on its own queue."""

    def __init__(self, db_url: str, broker: str, queue: str, smtp, tmp_path: Path, **env):
        self.env = {
            **os.environ,
            "PORTAL_DATABASE_URL": db_url,
            "PORTAL_SECRET_KEY": "test-secret-key",
            "PORTAL_BROKER_URL": broker,
            "PORTAL_BROKER_QUEUE": queue,
            **smtp.env(),
            **env,
        }
        self.cwd, self.process, self.log = tmp_path, None, tmp_path / f"worker-{uuid.uuid4()}.log"
        self.node = f"portal-test-{uuid.uuid4().hex[:12]}@%h"

    def start(self) -> Worker:
        # The worker keeps the real clock, as another host would (PORTAL_TEST_TODAY moves only
        # this process's): a new message is due at once whatever the clocks say.
        self.handle = open(self.log, "w")  # noqa: SIM115 - closed in stop()
        portal = Path(sys.executable).parent / "portal"
        self.process = subprocess.Popen(
            # Its own node name: two test runs at once (CI's two lanes) must not share one
            # (RabbitMQ gives a node's control queue to one connection only).
            [str(portal), "worker", "--pool", "solo", "--loglevel", "info", "--name", self.node],
            env=self.env,
            cwd=self.cwd,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.log.read_text():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.handle.close()


@pytest.fixture
def queue(make_app):
    """A queue of this test's own; deleted afterwards from whichever broker it used."""
    name = f"portal-test-{uuid.uuid4().hex[:12]}"
    used = []
    yield name, used
    from kombu import Connection

    for url in used:
        with Connection(url, connect_timeout=2) as connection:
            connection.default_channel.queue_delete(name)
        if url.startswith("redis"):
            import redis

            client = redis.Redis.from_url(url)
            client.delete(*client.keys(f"*{name}*") or [f"_kombu.binding.{name}"])


def _wait_for(condition, seconds: float = 10.0, message: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.2)


def _status(app) -> str | None:
    with app.app_context():
        status = db.session.scalar(select(OutboxMessage.status))
        db.session.remove()
        return status


def _run(make_app, db_url, tmp_path, smtp, queue, broker):
    name, used = queue
    used.append(broker)
    app = make_app(smtp.config() | {"BROKER_URL": broker, "BROKER_QUEUE": name})
    worker = Worker(db_url, broker, name, smtp, tmp_path).start()
    try:
        response = app.test_client().post("/password/forgot", data={"email": "coord@a.example"})
        assert response.status_code == 302
        _wait_for(lambda: len(smtp.messages) == 1, message=worker.log.read_text())
        _wait_for(lambda: _status(app) == Status.SENT, message=worker.log.read_text())
    finally:
        worker.stop()
    assert smtp.messages[0].rcpt_tos == ["coord@a.example"]


def test_a_worker_delivers_through_redis(make_app, world, db_url, tmp_path, smtp, queue):
    _require(REDIS_BROKER)
    _run(make_app, db_url, tmp_path, smtp, queue, REDIS_BROKER)


def test_a_worker_delivers_through_rabbitmq(make_app, world, db_url, tmp_path, smtp, queue):
    _require(RABBIT_BROKER)
    _run(make_app, db_url, tmp_path, smtp, queue, RABBIT_BROKER)


def test_a_worker_killed_mid_delivery_sends_the_message_once(
    make_app, world, db_url, tmp_path, smtp, queue
):
    """The SMTP server sits on the recipient; the worker is killed (SIGKILL) meanwhile. The
    task goes back to the broker (acknowledged late), the claim lapses, and the schedule's
    sweep and the redelivered task both go for the message: it arrives exactly once. (The
    sweep runs in the worker, on its host's clock: this process's clock may be moved.)"""
    _require(REDIS_BROKER)
    name, used = queue
    used.append(REDIS_BROKER)
    env = {"PORTAL_MAIL_CLAIM_SECONDS": "3", "PORTAL_BROKER_VISIBILITY_TIMEOUT": "5"}
    app = make_app(smtp.config() | {"BROKER_URL": REDIS_BROKER, "BROKER_QUEUE": name})
    smtp.hang_seconds = 30
    first = Worker(db_url, REDIS_BROKER, name, smtp, tmp_path, **env).start()
    try:
        response = app.test_client().post("/password/forgot", data={"email": "coord@a.example"})
        assert response.status_code == 302
        _wait_for(lambda: _status(app) == Status.SENDING, message=first.log.read_text())
        first.kill()
    finally:
        first.stop()
    smtp.hang_seconds = 0
    assert smtp.messages == []
    time.sleep(3.5)  # the dead worker's claim lapses
    second = Worker(db_url, REDIS_BROKER, name, smtp, tmp_path, **env).start()
    try:
        with app.app_context():
            broker(app).send_task("portal.mail.sweep")
        _wait_for(lambda: _status(app) == Status.SENT)
        time.sleep(8)  # the broker gives the dead worker's task to the second one meanwhile
        log = second.log.read_text()
    finally:
        second.stop()
    assert len(smtp.messages) == 1, log
    assert "portal.mail.deliver" in log  # the redelivered task ran, and sent nothing
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == Status.SENT and message.attempts == 2


def test_one_schedule_runs_however_many_are_started(make_app, world, db_url, tmp_path, smtp, queue):
    """`portal worker --beat` on two hosts: one runs the schedule, the other waits and takes
    over when the first one dies (a PostgreSQL advisory lock, or a file lock on SQLite)."""
    _require(REDIS_BROKER)
    name, used = queue
    used.append(REDIS_BROKER)
    portal = Path(sys.executable).parent / "portal"
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": db_url,
        "PORTAL_SECRET_KEY": "test-secret-key",
        "PORTAL_BROKER_URL": REDIS_BROKER,
        "PORTAL_BROKER_QUEUE": name,
        "PORTAL_BEAT_SCHEDULE": str(tmp_path / "beat-schedule"),
        **smtp.env(),
    }
    logs, processes = [], []
    try:
        for n in range(2):
            log = tmp_path / f"beat-{n}.log"
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    [str(portal), "worker", "--beat", "--loglevel", "info"],
                    env=env,
                    cwd=tmp_path,
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
            if n == 0:
                _wait_for(lambda: "runs the schedule." in logs[0].read_text(), message="first")
        _wait_for(lambda: "waiting to take over" in logs[1].read_text(), message="second")
        assert "This process runs the schedule." not in logs[1].read_text()
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait(timeout=10)
        _wait_for(
            lambda: "This process runs the schedule." in logs[1].read_text(),
            seconds=30,
            message=logs[1].read_text(),
        )
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=15)
