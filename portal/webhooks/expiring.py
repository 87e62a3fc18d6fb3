"""The "label expiring" event, written by the daily reminders run (``portal.reminders``).

A label lapsing within the reminder window (6, 3 and 1 months before it expires, the stages of
``portal.labels.reminders``) is sent once per label, stage and webhook (the delivery's unique
key ``label-expiring:<label>:<months>:<webhook>``), so a second run the same day, or the next
day in the same stage, sends nothing again. A label renewed by a later one that lasts longer is
not expiring, as for the reminders. One query per run finds the regions with a webhook that
wants the event (:func:`regions_with_expiry_webhooks`); four more for each of those.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.labels.models import Label
from portal.labels.reminders import STAGES, _renewed, _stage
from portal.labels.scheme import add_months
from portal.tenancy.models import Tenant
from portal.webhooks.models import LABEL_EXPIRING, Webhook, WebhookDelivery
from portal.webhooks.recording import (
    delivery_row,
    envelope,
    insert_deliveries,
    label_fields,
    new_event_id,
    subscribers,
)


def regions_with_expiry_webhooks() -> set[int]:
    """The regions with an active webhook that wants "label expiring": one query for the run."""
    table = Webhook.__table__
    rows = db.session.execute(
        select(table.c.tenant_id, table.c.events).where(table.c.active.is_(True))
    )
    return {tenant_id for tenant_id, events in rows if LABEL_EXPIRING in (events or ())}


def _key(label_id: int, stage: int, webhook_id: int) -> str:
    return f"label-expiring:{label_id}:{stage}:{webhook_id}"


def queue_label_expiring(tenant: Tenant, today: date) -> int:
    """Write the region's new "label expiring" deliveries and commit them; how many."""
    hooks = [
        webhook_id
        for webhook_id, events in subscribers(db.session.connection(), {tenant.id}).get(
            tenant.id, ()
        )
        if LABEL_EXPIRING in events
    ]
    if not hooks:
        return 0
    horizon = add_months(today, STAGES[-1])
    expiring_clusters = select(Label.cluster_id).where(
        Label.tenant_id == tenant.id, Label.expires_on >= today, Label.expires_on <= horizon
    )
    labels = db.session.scalars(
        select(Label)
        .where(Label.tenant_id == tenant.id, Label.cluster_id.in_(expiring_clusters))
        .options(joinedload(Label.cluster))
        .order_by(Label.expires_on, Label.id)
    ).all()
    due = [
        lbl for lbl in labels if today <= lbl.expires_on <= horizon and not _renewed(lbl, labels)
    ]
    if not due:
        return 0
    wanted = {
        (label, stage, webhook_id): _key(label.id, stage, webhook_id)
        for label in due
        if (stage := _stage(label.expires_on, today)) is not None
        for webhook_id in hooks
    }
    sent = set(
        db.session.scalars(
            select(WebhookDelivery.key).where(
                WebhookDelivery.tenant_id == tenant.id,
                WebhookDelivery.key.in_(sorted(wanted.values())),
            )
        )
    )
    rows, events = [], {}
    for (label, stage, webhook_id), key in wanted.items():
        if key in sent:
            continue
        if (label.id, stage) not in events:  # one event, sent to each webhook
            data = label_fields(label, label.cluster.name) | {"expires_within_months": stage}
            events[label.id, stage] = envelope(LABEL_EXPIRING, new_event_id(), tenant.slug, data)
        rows.append(delivery_row(webhook_id, tenant.id, events[label.id, stage], key))
    try:
        insert_deliveries(db.session, rows)
        db.session.commit()
    except IntegrityError:  # another run wrote them at the same moment: theirs are sent
        db.session.rollback()
        return 0
    return len(rows)
