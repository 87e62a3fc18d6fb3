"""The webhooks' Celery tasks (registered on each portal Celery app, ``portal.jobs.celery``):
one delivery by id (handed over after the commit that wrote it), and the sweep of whatever is
due (the schedule's ``webhook-sweep``, every ``OUTBOX_SWEEP_SECONDS``)."""

from __future__ import annotations

from celery import Celery


def register_tasks(celery: Celery) -> None:
    # shared=False: each Celery app keeps its own tasks, bound to its own Flask app.
    @celery.task(name="portal.webhooks.deliver", shared=False)
    def deliver(delivery_id: int) -> dict[str, int]:
        from portal.webhooks.delivery import deliver as deliver_webhooks

        return deliver_webhooks([int(delivery_id)])

    @celery.task(name="portal.webhooks.sweep", shared=False)
    def sweep() -> dict[str, int]:
        from portal.webhooks.delivery import sweep as sweep_webhooks

        return sweep_webhooks()
