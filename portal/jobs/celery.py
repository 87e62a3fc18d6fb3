"""The Celery app of a portal app: tasks run in its app context, with JSON arguments.

As Indico does (../shared/patterns.md, J1): one Flask app bound when the Celery app is made;
every task runs inside its app context and removes the database session afterwards, so a
failed task never leaves a dirty session to the next one on that worker. Tasks take ids, not
objects (J2). Deliveries are acknowledged late and requeued when a worker dies, and the
outbox's claim keeps a requeued task from sending twice.
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask

from portal.extensions import db


def make_celery(app: Flask) -> Celery:
    class AppTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                try:
                    return self.run(*args, **kwargs)
                finally:
                    db.session.remove()

    config = app.config
    celery = Celery(app.import_name, task_cls=AppTask)
    celery.conf.update(
        broker_url=config["BROKER_URL"],
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=float(config.get("BROKER_TIMEOUT", 3)),
        # Redis: a task not acknowledged in this time goes to another worker; above any
        # delivery's length (the outbox's claim decides who sends).
        broker_transport_options={
            "visibility_timeout": float(config.get("BROKER_VISIBILITY_TIMEOUT") or 3600)
        },
        task_default_queue=config.get("BROKER_QUEUE", "portal"),
        timezone="UTC",
        beat_schedule={
            "outbox-sweep": {
                "task": "portal.mail.sweep",
                "schedule": float(config.get("OUTBOX_SWEEP_SECONDS") or 60),
            },
            "webhook-sweep": {
                "task": "portal.webhooks.sweep",
                "schedule": float(config.get("OUTBOX_SWEEP_SECONDS") or 60),
            },
            "daily-reminders": {
                "task": "portal.reminders.daily",
                "schedule": crontab(minute=0, hour=int(config.get("REMINDERS_HOUR", 6))),
            },
            # Workshops close by the real clock, soon after their end time.
            "close-ended-workshops": {
                "task": "portal.workshops.close_ended",
                "schedule": crontab(minute="*/15"),
            },
        },
    )
    celery.set_default()
    _register_tasks(celery)
    return celery


def _register_tasks(celery: Celery) -> None:
    # shared=False: each Celery app (one per Flask app: tests build many) keeps its own
    # tasks, bound to its own Flask app; a shared task would reach the first app made.
    @celery.task(name="portal.mail.deliver", shared=False)
    def deliver(message_id: int) -> dict[str, int]:
        from portal.mail.delivery import deliver as deliver_messages

        return deliver_messages([int(message_id)])

    from portal.webhooks.tasks import register_tasks as register_webhook_tasks

    register_webhook_tasks(celery)

    @celery.task(name="portal.imports.run", shared=False)
    def run_import(job_id: int) -> str:
        from portal.imports.jobs import run

        return run(int(job_id))

    @celery.task(name="portal.mail.sweep", shared=False)
    def sweep() -> dict[str, int]:
        from portal.mail.delivery import sweep as sweep_outbox

        return sweep_outbox()

    @celery.task(name="portal.reminders.daily", shared=False)
    def daily_reminders() -> dict[str, int]:
        from datetime import UTC, datetime

        from portal.reminders import send_reminders

        # The schedule's day (it runs in UTC), whatever the worker host's time zone.
        return send_reminders(datetime.now(UTC).date())

    @celery.task(name="portal.workshops.close_ended", shared=False)
    def close_ended_workshops() -> dict[str, int]:
        from portal.workshops.closing import close_ended

        return close_ended()
