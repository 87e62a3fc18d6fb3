"""Delivering webhook events: each delivery claimed, signed, sent, and marked; retried with
exponential backoff, then given up.

As mail's outbox (:mod:`portal.mail.delivery`): a delivery is claimed by one conditional UPDATE
that only one worker can win (a task delivered twice, the sweep racing a task), the try is
counted, and the result is written in its own commit. A worker that dies mid-try leaves the
claim to lapse (``WEBHOOK_CLAIM_SECONDS``) and the sweep tries again, so delivery is at least
once: receivers drop a copy by its ``webhook-id``. Each delivery stands alone: one receiver
that is down delays nobody else's events.

A failed try waits ``WEBHOOK_BACKOFF_SECONDS * 2 ** (tries - 1)`` (at most
``WEBHOOK_BACKOFF_MAX_SECONDS``) for the next; after ``WEBHOOK_MAX_ATTEMPTS`` tries it gives up
(the log's "send again" starts over). A 2xx answer is delivered; redirects are followed only
when they keep the method (307, 308), at most three, each new address checked like the first.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
from flask import current_app
from sqlalchemy import and_, or_, select, update

from portal import __version__
from portal.db import utcnow
from portal.extensions import db
from portal.tenancy import unscoped
from portal.webhooks import signing, targets
from portal.webhooks.models import DeliveryStatus, Webhook, WebhookDelivery

log = logging.getLogger(__name__)
MAX_REDIRECTS = 3
KEPT_ANSWER = 500  # characters of a failed answer's body kept in the log
USER_AGENT = f"ClusterForumPortal-Webhooks/{__version__}"

_table = WebhookDelivery.__table__


def max_attempts() -> int:
    return max(1, int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS") or 8))


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed try: doubling, capped."""
    base = float(current_app.config.get("WEBHOOK_BACKOFF_SECONDS") or 30)
    cap = float(current_app.config.get("WEBHOOK_BACKOFF_MAX_SECONDS") or 6 * 3600)
    return min(base * 2 ** max(attempts - 1, 0), cap)


def _due(now: datetime):
    # Never tried: due at once, whatever the clocks of the host that wrote it and this one.
    return or_(
        and_(
            _table.c.status == DeliveryStatus.PENDING,
            or_(_table.c.attempts == 0, _table.c.next_attempt_at <= now),
        ),
        and_(_table.c.status == DeliveryStatus.SENDING, _table.c.claimed_until < now),
    )


def due_ids(limit: int = 200, now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(
        db.session.execute(
            select(_table.c.id).where(_due(now)).order_by(_table.c.id).limit(limit)
        ).scalars()
    )


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    seconds = float(current_app.config.get("WEBHOOK_CLAIM_SECONDS") or 120)
    won = db.session.execute(
        update(_table)
        .where(_table.c.id == delivery_id, _due(now))
        .values(
            status=DeliveryStatus.SENDING,
            claimed_until=now + timedelta(seconds=seconds),
            attempts=_table.c.attempts + 1,
            last_attempt_at=now,
        )
    ).rowcount
    db.session.commit()
    if won != 1:
        return None
    with unscoped():
        return db.session.get(WebhookDelivery, delivery_id, populate_existing=True)


def _mark(
    delivery: WebhookDelivery, now: datetime, status: int | None, kind: str, error: str
) -> bool:
    """Write the try's result; True when delivered."""
    values: dict[str, Any] = {
        "claimed_until": None,
        "response_status": status,
        "error_kind": kind,
        "error": error[:2000],
    }
    if not kind:
        values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "next_attempt_at": None}
    elif kind == "inactive" or delivery.attempts >= max_attempts():
        values |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    else:
        values |= {
            "status": DeliveryStatus.PENDING,
            "next_attempt_at": now + timedelta(seconds=backoff(delivery.attempts)),
        }
    db.session.execute(
        update(_table)
        .where(_table.c.id == delivery.id, _table.c.status == DeliveryStatus.SENDING)
        .values(**values)
    )
    db.session.commit()
    return not kind


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signing_secrets(webhook: Webhook, now: datetime) -> list[str]:
    """The current secret, and the previous one while it still counts after a rotation."""
    found = [webhook.signing_secret]
    until = webhook.previous_secret_until
    if webhook.previous_signing_secret and until is not None:
        if until.tzinfo is None:  # SQLite gives naive datetimes back
            until = until.replace(tzinfo=now.tzinfo)
        if until > now:
            found.append(webhook.previous_signing_secret)
    return found


def _post(client: httpx.Client, url: str, body: bytes, headers: dict) -> tuple[int, str, str]:
    """(status, kind of error or "", detail) of one POST and the redirects it may follow."""
    target = targets.resolve(url)
    for hop in range(MAX_REDIRECTS + 1):
        sent = headers | {"host": target.host_header}
        with client.stream(
            "POST",
            target.connect_url,
            content=body,
            headers=sent,
            extensions={"sni_hostname": target.host},
        ) as response:
            answer = b""
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) >= KEPT_ANSWER:
                    break
        status = response.status_code
        if 200 <= status < 300:
            return status, "", ""
        location = response.headers.get("location")
        if status in (307, 308) and location and hop < MAX_REDIRECTS:
            target = targets.resolve(urljoin(target.url, location))
            continue
        text = answer[:KEPT_ANSWER].decode("utf-8", "replace").strip()
        kind = "redirect" if 300 <= status < 400 else "http"
        return status, kind, f"HTTP {status}" + (f": {text}" if text else "")
    return status, "redirect", f"HTTP {status}"  # pragma: no cover - the loop returns


def send(delivery: WebhookDelivery, webhook: Webhook, now: datetime) -> tuple[int | None, str, str]:
    """Try once: (HTTP status or None, kind of error or "" when delivered, detail)."""
    if not webhook.active:
        return None, "inactive", ""
    body = body_of(delivery.payload)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        **signing.headers(signing_secrets(webhook, now), delivery.event_id, int(time.time()), body),
    }
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT") or 10)
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False
        ) as client:
            return _post(client, webhook.url, body, headers)
    except targets.TargetRefused as exc:
        return None, "refused", exc.message
    except httpx.TimeoutException as exc:
        return None, "timeout", f"{type(exc).__name__}: {exc}"
    except (httpx.HTTPError, OSError) as exc:
        return None, "connection", f"{type(exc).__name__}: {exc}"


def deliver(
    delivery_ids: Iterable[int], now: datetime | None = None, budget: float | None = None
) -> dict[str, int]:
    """Try each delivery that is due; how many were delivered, failed, or not due (and left
    for the sweep). ``now``: the time the tries count from (tests move it instead of waiting);
    ``budget``: seconds after which no new try starts here (the rest stays due)."""
    counts = {"delivered": 0, "failed": 0, "skipped": 0, "left": 0}
    started = time.monotonic()
    try:
        for delivery_id in delivery_ids:
            if budget is not None and time.monotonic() - started > budget:
                counts["left"] += 1
                continue
            at = now or utcnow()
            delivery = _claim(delivery_id, at)
            if delivery is None:
                counts["skipped"] += 1
                continue
            with unscoped():
                webhook = db.session.get(Webhook, delivery.webhook_id)
            try:
                status, kind, detail = send(delivery, webhook, at)
            except Exception as exc:  # noqa: BLE001 - counted as a failed try, never lost
                log.exception("webhook delivery %s failed", delivery_id)
                status, kind, detail = None, "connection", f"{type(exc).__name__}: {exc}"
            delivered = _mark(delivery, at, status, kind, detail)  # the wait counts from the try
            counts["delivered" if delivered else "failed"] += 1
    finally:
        db.session.remove()
    return counts


def sweep(limit: int = 200, now: datetime | None = None) -> dict[str, int]:
    """Deliver whatever is due (the schedule's job; the embedded mode's timer)."""
    return deliver(due_ids(limit, now), now)


def hand_over(ids: list[int]) -> None:
    """To the broker, or delivered here and now (embedded), as mail is (:mod:`portal.jobs`)."""
    from portal.jobs import broker, start_sweeper

    celery = broker()
    if celery is not None:
        for delivery_id in ids:
            try:
                celery.send_task("portal.webhooks.deliver", args=[delivery_id])
            except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep delivers
                log.warning("broker unreachable; webhook delivery %s waits: %s", delivery_id, exc)
                break
        return
    try:
        # A slow receiver must not hold the response long: what is not tried within the budget
        # waits for the sweeper thread (it is due at once).
        deliver(ids, budget=float(current_app.config.get("WEBHOOK_INLINE_SECONDS") or 5))
    except Exception:  # noqa: BLE001 - never break the response; the sweep tries again
        log.exception("delivering webhooks %s failed; the sweep tries again", ids)
    start_sweeper(current_app._get_current_object())
