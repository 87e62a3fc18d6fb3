"""Jobs: what leaves the portal is delivered by jobs, never inside the change that caused it.

Two modes, one outbox (:mod:`portal.mail`):

* With a broker (``PORTAL_BROKER_URL``: Redis or RabbitMQ), each message committed is handed
  to a Celery task (:mod:`portal.jobs.celery`); ``portal worker`` runs the workers and
  ``portal worker --beat`` the one schedule (the sweep, the daily reminders). A broker that
  cannot be reached loses nothing: the message waits in the outbox for the sweep.
* Without one (the embedded default), the messages a request or a command committed are
  delivered in this process right after it (when its app context ends), and a timer thread
  sweeps what failed and closes the workshops that are over (every 15 minutes, as the
  schedule does). The demo needs nothing.

Webhook deliveries (:mod:`portal.webhooks`) take the same two ways, with their own outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from flask import Flask, current_app, g, has_app_context

log = logging.getLogger(__name__)
DUE = "portal_outbox_due"
WEBHOOKS_DUE = "portal_webhooks_due"
EXTENSION = "portal_jobs"


def init_jobs(app: Flask) -> None:
    state = {"celery": None, "sweeper": None, "stop": threading.Event()}
    app.extensions[EXTENSION] = state
    if app.config.get("BROKER_URL"):
        from portal.jobs.celery import make_celery

        state["celery"] = make_celery(app)

    @app.teardown_appcontext
    def _deliver_what_was_committed(_exc=None) -> None:
        ids = g.pop(DUE, None)
        webhook_ids = g.pop(WEBHOOKS_DUE, None)
        if ids or webhook_ids:
            # What the request left uncommitted is dropped first, as Flask-SQLAlchemy's own
            # teardown would: the delivery's commits must never write it.
            from portal.extensions import db

            db.session.remove()
        if ids:
            hand_over(sorted(ids))
        if webhook_ids:
            from portal.webhooks.delivery import hand_over as hand_over_webhooks

            hand_over_webhooks(sorted(webhook_ids))


def broker(app: Flask | None = None):
    """The Celery app, or None in the embedded mode."""
    return (app or current_app).extensions[EXTENSION]["celery"]


def queue_delivery(ids: Iterable[int]) -> None:
    """Deliver these outbox messages once the current app context ends (after its commit)."""
    if has_app_context():
        g.setdefault(DUE, set()).update(ids)


def queue_webhooks(ids: Iterable[int]) -> None:
    """Deliver these webhook deliveries once the current app context ends (after its commit)."""
    if has_app_context():
        g.setdefault(WEBHOOKS_DUE, set()).update(ids)


def hand_over(ids: list[int]) -> None:
    """To the broker, or delivered here and now (embedded)."""
    celery = broker()
    if celery is not None:
        for message_id in ids:
            try:
                celery.send_task("portal.mail.deliver", args=[message_id])
            except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep delivers
                log.warning(
                    "broker unreachable; message %s waits for the sweep: %s", message_id, exc
                )
                break
        return
    from portal.mail.delivery import deliver

    try:
        deliver(ids)
    except Exception:  # noqa: BLE001 - never break the response; the sweep tries again
        log.exception("delivering outbox messages %s failed; the sweep tries again", ids)
    start_sweeper(current_app._get_current_object())


def start_sweeper(app: Flask) -> None:
    """Embedded mode: one daemon thread per process retries what failed, once a minute, and
    closes the workshops that are over. Started by ``portal serve`` and by the first delivery."""
    every = float(app.config.get("OUTBOX_SWEEP_SECONDS", 60) or 0)
    state = app.extensions[EXTENSION]
    if every <= 0 or state["sweeper"] is not None:
        return
    state["sweeper"] = thread = threading.Thread(
        target=_sweep_forever,
        args=(app, every, state["stop"]),
        name="portal-outbox-sweeper",
        daemon=True,
    )
    thread.start()


def stop_sweeper(app: Flask) -> None:
    state = app.extensions[EXTENSION]
    state["stop"].set()
    if state["sweeper"] is not None:
        state["sweeper"].join(timeout=30)
        state["sweeper"] = None


CLOSE_EVERY = 15 * 60  # seconds: the schedule's "close-ended-workshops"


def _sweep_forever(app: Flask, every: float, stop: threading.Event) -> None:
    from portal.mail.delivery import sweep
    from portal.webhooks.delivery import sweep as sweep_webhooks
    from portal.workshops.closing import close_ended

    closed_at = 0.0
    while not stop.wait(every):
        try:
            with app.app_context():
                sweep()
                sweep_webhooks()
                if time.monotonic() - closed_at >= CLOSE_EVERY:
                    closed_at = time.monotonic()
                    close_ended()  # idempotent: several processes may run it
        except Exception:  # noqa: BLE001 - keep sweeping
            log.exception("outbox sweep, webhook sweep or closing workshops failed")
