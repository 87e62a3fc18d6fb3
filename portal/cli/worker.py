"""`portal worker`: the Celery workers that deliver the outbox; `--beat`: the one schedule."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import text

from portal.cli.database import needs_database
from portal.extensions import db

LOCK_KEY = 0x504F5254  # the scheduler's PostgreSQL advisory lock ("PORT")


@click.command("worker")
@click.option(
    "--beat",
    is_flag=True,
    help="Run the schedule (outbox sweep, daily reminders) instead of workers. Start it on "
    "as many hosts as you like: one runs, the others wait to take over.",
)
@click.option("--concurrency", type=click.IntRange(1, 64), help="Worker processes.")
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
)
@click.option("--loglevel", default="info", show_default=True)
@click.option(
    "--name",
    help="The worker's node name (default celery@<host>): give each worker of a host its own.",
)
@needs_database
def worker_command(
    beat: bool, concurrency: int | None, pool: str, loglevel: str, name: str | None
) -> None:
    """Run the job workers (with PORTAL_BROKER_URL set; without one, the web process
    delivers by itself and no worker is needed)."""
    from portal.jobs import broker

    app = current_app._get_current_object()
    celery = broker(app)
    if celery is None:
        raise click.ClickException(
            _(
                "No broker is configured: set PORTAL_BROKER_URL (Redis or RabbitMQ). "
                "Without one, the web process delivers mail by itself."
            )
        )
    if beat:
        with scheduler_lock(app):
            click.echo(_("This process runs the schedule."))
            schedule = app.config.get("BEAT_SCHEDULE_FILE") or os.path.join(
                app.instance_path, "celerybeat-schedule"
            )
            celery.Beat(loglevel=loglevel.upper(), schedule=schedule).run()
        return
    _dispose_connections_in_children(app)
    argv = ["worker", f"--loglevel={loglevel}", f"--pool={pool}"]
    argv += ["-Q", celery.conf.task_default_queue]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if name:
        argv.append(f"--hostname={name}")
    celery.worker_main(argv)


def _dispose_connections_in_children(app) -> None:
    """Connections opened before the fork must not be shared with the pool's processes."""
    from celery.signals import worker_process_init

    @worker_process_init.connect(weak=False)
    def _fresh_connections(**_kwargs):
        with app.app_context():
            db.engine.dispose(close=False)


@contextmanager
def scheduler_lock(app, poll_seconds: float = 5.0) -> Iterator[None]:
    """Held while this process runs the schedule; waits while another one holds it.

    PostgreSQL: an advisory lock on a connection kept for the process's life (released by
    the server when the process dies, on whichever host). SQLite: a file lock next to the
    database (one host by nature)."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        connection = engine.connect()
        try:
            told = False
            while not connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}):
                connection.commit()
                if not told:
                    click.echo(_("Another process runs the schedule; waiting to take over."))
                    told = True
                time.sleep(poll_seconds)
            # The lock is the session's, not the transaction's: end the transaction so the
            # connection does not sit "idle in transaction" (and get cut) for the beat's life.
            connection.commit()
            yield
        finally:
            connection.close()
        return
    database = engine.url.database or ""
    folder = os.path.dirname(os.path.abspath(database)) if database else app.instance_path
    with open(os.path.join(folder, "portal-beat.lock"), "w") as handle:
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    click.echo(_("Another process runs the schedule; waiting to take over."))
                    told = True
                time.sleep(poll_seconds)
        yield
