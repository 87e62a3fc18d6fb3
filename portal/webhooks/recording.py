"""Events recorded as deliveries in the same transaction as the change (a transactional outbox).

A flush listener sees every change the portal writes, whatever wrote it (a page, an import,
the JSON API, the CLI): a new label is "label awarded", a benchmarking or audit whose
``confirmed_at`` is set (new, or from none) is "round confirmed", an action whose status moves
to done is "action done". For each webhook of the region that wants the event it inserts a
:class:`WebhookDelivery` on the flush's own connection, so a change rolled back (also to a
savepoint) leaves no delivery and a committed one cannot lose its delivery. After the commit
the new deliveries are handed to the job queue (:func:`portal.jobs.queue_webhooks`).

A flush with no such change costs nothing; one with such changes costs one query for the
region's webhooks, and two more (the clusters' names, the region) and an insert only when a
webhook wants them. Payloads carry public fields only: never a benchmark value, light, score,
evidence or a person (docs/webhooks.md lists them).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from portal.benchmarking.models import BenchmarkRound, RoundKind
from portal.clusters.models import Cluster
from portal.db import utcnow
from portal.labels.models import Label
from portal.plans.models import Action, ActionStatus
from portal.tenancy.models import Tenant
from portal.webhooks.models import (
    ACTION_DONE,
    LABEL_AWARDED,
    ROUND_CONFIRMED,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
)

NEW = "portal_webhook_deliveries_new"  # session.info: ids inserted in this transaction


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def label_fields(label: Any, cluster_name: str) -> dict[str, Any]:
    """A label as the public register shows it (no score: the register shows it only when
    the region publishes scores, and a webhook is no place to decide that)."""
    return {
        "id": label.id,
        "cluster": {"id": label.cluster_id, "name": cluster_name},
        "scheme": label.scheme,
        "scheme_version": label.scheme_version,
        "level": label.level,
        "awarded_on": _iso(label.awarded_on),
        "expires_on": _iso(label.expires_on),
    }


def _round_fields(round_: BenchmarkRound, cluster_name: str) -> dict[str, Any]:
    # That a round was confirmed, never its values, lights or the expert's name.
    return {
        "id": round_.id,
        "cluster": {"id": round_.cluster_id, "name": cluster_name},
        "indicator_set": round_.indicator_set,
        "set_version": round_.set_version,
        "kind": str(round_.kind),
        "held_on": _iso(round_.held_on),
        "confirmed_at": _iso(round_.confirmed_at),
    }


def _action_fields(action: Action, previous: Any) -> dict[str, Any]:
    # No money, hours, description or owner: what was done, in which plan, when due.
    return {
        "id": action.id,
        "plan_id": action.plan_id,
        "title": action.title,
        "status": str(action.status),
        "previous_status": str(previous) if previous is not None else None,
        "start_date": _iso(action.start_date),
        "due_date": _iso(action.due_date),
        "progress": action.progress,
    }


def _moved(obj: Any, key: str) -> tuple[bool, Any, Any]:
    """(changed, old, new) of an attribute in this flush (history before the flush)."""
    history = inspect(obj).attrs[key].history
    if not history.added:
        return False, None, None
    old = history.deleted[0] if history.deleted else None
    return True, old, history.added[0]


def _found(session: Session) -> list[tuple[str, Any, Any]]:
    """(event, object, previous value) of every change in this flush that is an event."""
    found: list[tuple[str, Any, Any]] = []
    for obj in session.new:
        if isinstance(obj, Label):
            found.append((LABEL_AWARDED, obj, None))
        elif (
            isinstance(obj, BenchmarkRound)
            and obj.confirmed_at is not None
            and obj.kind != RoundKind.SELF_ASSESSMENT
        ):
            found.append((ROUND_CONFIRMED, obj, None))
    for obj in session.dirty:
        if isinstance(obj, BenchmarkRound):
            changed, old, new = _moved(obj, "confirmed_at")
            if (
                changed
                and old is None
                and new is not None
                and obj.kind != RoundKind.SELF_ASSESSMENT
            ):
                found.append((ROUND_CONFIRMED, obj, None))
        elif isinstance(obj, Action):
            changed, old, new = _moved(obj, "status")
            if changed and new == ActionStatus.DONE and old != ActionStatus.DONE:
                found.append((ACTION_DONE, obj, old))
    return found


def envelope(event_type: str, event_id: str, tenant_slug: str, data: dict[str, Any]) -> dict:
    return {
        "type": event_type,
        "id": event_id,
        "occurred_at": utcnow().isoformat(),
        "region": tenant_slug,
        "data": data,
    }


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def delivery_row(webhook_id: int, tenant_id: int, payload: dict, key: str | None = None) -> dict:
    now = utcnow()
    return {
        "tenant_id": tenant_id,
        "webhook_id": webhook_id,
        "event_type": payload["type"],
        "event_id": payload["id"],
        "payload": payload,
        "key": key,
        "created_at": now,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "error_kind": "",
        "error": "",
    }


def subscribers(connection, tenant_ids: set[int]) -> dict[int, list[tuple[int, list[str]]]]:
    """Active webhooks of these regions: tenant id -> [(webhook id, its events)]."""
    table = Webhook.__table__
    rows = connection.execute(
        select(table.c.id, table.c.tenant_id, table.c.events)
        .where(table.c.tenant_id.in_(sorted(tenant_ids)), table.c.active.is_(True))
        .order_by(table.c.id)
    )
    found: dict[int, list[tuple[int, list[str]]]] = {}
    for webhook_id, tenant_id, events in rows:
        found.setdefault(tenant_id, []).append((webhook_id, list(events or ())))
    return found


def insert_deliveries(session: Session, rows: list[dict]) -> None:
    """Insert on the session's connection (same transaction); handed over after commit."""
    if not rows:
        return
    table = WebhookDelivery.__table__
    ids = session.connection().execute(insert(table).returning(table.c.id), rows).scalars()
    session.info.setdefault(NEW, set()).update(ids)


@event.listens_for(Session, "after_flush")
def _record_events(session: Session, _flush_context) -> None:
    found = _found(session)
    if not found:
        return
    connection = session.connection()
    hooks = subscribers(connection, {obj.tenant_id for _e, obj, _p in found})
    wanted = [
        (event_type, obj, previous)
        for event_type, obj, previous in found
        if any(event_type in events for _id, events in hooks.get(obj.tenant_id, ()))
    ]
    if not wanted:
        return
    cluster_ids = {obj.cluster_id for _e, obj, _p in wanted if hasattr(obj, "cluster_id")}
    clusters = Cluster.__table__
    names = dict(
        connection.execute(
            select(clusters.c.id, clusters.c.name).where(clusters.c.id.in_(sorted(cluster_ids)))
        ).all()
        if cluster_ids
        else {}
    )
    tenants = Tenant.__table__
    slugs = dict(
        connection.execute(
            select(tenants.c.id, tenants.c.slug).where(
                tenants.c.id.in_(sorted({obj.tenant_id for _e, obj, _p in wanted}))
            )
        ).all()
    )
    rows = []
    for event_type, obj, previous in wanted:
        if event_type == LABEL_AWARDED:
            data = label_fields(obj, names.get(obj.cluster_id, ""))
        elif event_type == ROUND_CONFIRMED:
            data = _round_fields(obj, names.get(obj.cluster_id, ""))
        else:
            data = _action_fields(obj, previous)
        payload = envelope(event_type, new_event_id(), slugs[obj.tenant_id], data)
        for webhook_id, events in hooks[obj.tenant_id]:
            if event_type in events:
                rows.append(delivery_row(webhook_id, obj.tenant_id, payload))
    insert_deliveries(session, rows)


@event.listens_for(Session, "after_commit")
def _hand_over_after_commit(session: Session) -> None:
    ids = session.info.pop(NEW, None)
    if ids:
        from portal.jobs import queue_webhooks

        queue_webhooks(ids)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(NEW, None)


# Setting these loads the value they had (active history), so the flush knows whether a status
# moved to done or a round was confirmed just now, also when the attribute was expired.
@event.listens_for(Action.status, "set", active_history=True)
def _keep_old_status(_target, value, _old, _initiator):
    return value


@event.listens_for(BenchmarkRound.confirmed_at, "set", active_history=True)
def _keep_old_confirmation(_target, value, _old, _initiator):
    return value
