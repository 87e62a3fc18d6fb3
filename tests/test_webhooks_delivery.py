"""Events delivered to a real receiver on loopback: each event type, signed by the Standard
Webhooks convention (checked with its reference library), written with the change (nothing
for a change rolled back), retried with exponential backoff, given up, sent again; redirects;
no benchmark values in any payload; the delivery log's queries."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, date, timedelta

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook as Verifier

from portal.benchmarking import services as rounds
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import Label
from portal.plans import services as plans
from portal.plans.models import Action
from portal.tenancy import tenant_scope, unscoped
from portal.webhooks import delivery as deliveries
from portal.webhooks.models import DeliveryStatus, WebhookDelivery
from portal.webhooks.recording import delivery_row, envelope, insert_deliveries
from tests.conftest import count_queries
from tests.webhook_support import (  # noqa: F401 - the fixture `receiver`
    WEBHOOK_CONFIG,
    Receiver,
    add_webhook,
    award_bronze,
    coordinator_client,
    enter_rounds,
    plan_with_action,
    receiver_fixture,
    secret_of,
)

VALUE = 3.217  # every indicator of the cluster's rounds: found in no payload


@pytest.fixture
def app(make_app):
    return make_app(WEBHOOK_CONFIG | {"WEBHOOK_MAX_ATTEMPTS": 4, "WEBHOOK_BACKOFF_SECONDS": 60})


@pytest.fixture
def region(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    return world


def _deliveries(app, **where) -> list[WebhookDelivery]:
    with app.app_context(), unscoped():
        stmt = select(WebhookDelivery).filter_by(**where).order_by(WebhookDelivery.id)
        found = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return found


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _finish(app, world, action_id: int, **data) -> None:
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = db.session.get(Action, action_id)
        plans.update_action(None, action, {"status": "done"} | data)


def signed_by(secret: str, received) -> bool:
    """The signature checked by hand, as docs/webhooks.md shows (without the time window)."""
    signed = f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}.".encode()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, signed + received.body, hashlib.sha256).digest())
    return f"v1,{expected.decode()}" in received.headers["webhook-signature"].split(" ")


def _verified(secret: str, received) -> dict:
    """Checked as a receiver would: the reference library (its five-minute window included),
    and by hand."""
    payload = Verifier(secret).verify(received.body, received.headers)
    assert signed_by(secret, received)
    return payload


def test_each_event_is_delivered_signed_and_without_values(app, region, receiver):
    world = region
    client = coordinator_client(app)
    hook = add_webhook(client, receiver.url)
    secret = secret_of(app, hook)
    enter_rounds(app, world["a"].id, world["c1"].id, score=VALUE)  # two confirmed rounds
    label_id = award_bronze(app, world["a"].id, world["c1"].id)
    action_id = plan_with_action(app, world["a"].id, world["c1"].id)
    _finish(app, world, action_id)
    _finish(app, world, action_id, title="Member survey, done")  # done already: no event
    got = receiver.wait_for(4)
    payloads = [_verified(secret, r) for r in got]
    assert [p["type"] for p in payloads] == [
        "round.confirmed",
        "round.confirmed",
        "label.awarded",
        "action.done",
    ]
    for payload, received in zip(payloads, got, strict=True):
        assert payload["region"] == "nordland" and payload["id"] == received.headers["webhook-id"]
        assert received.headers["content-type"] == "application/json"
        assert str(VALUE) not in received.body.decode()
        for private in ("score", "value", "values", "light", "assessor", "notes", "spent_money"):
            assert private not in payload["data"], private
    label = payloads[2]["data"]
    assert label["id"] == label_id and label["level"] == "bronze" and label["scheme"] == "esca"
    assert label["cluster"] == {"id": world["c1"].id, "name": "Arctic Minerals"}
    assert payloads[0]["data"]["kind"] == "benchmarking"
    done = payloads[3]["data"]
    assert (done["id"], done["status"], done["previous_status"]) == (action_id, "done", "planned")
    assert {d.status for d in _deliveries(app)} == {DeliveryStatus.DELIVERED}
    assert len(receiver.received) == 4


def test_a_draft_confirmed_later_fires_once_and_a_self_assessment_never(app, region, receiver):
    world = region
    add_webhook(coordinator_client(app), receiver.url, events=["round.confirmed"])
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, world["c1"].id)
        indicator_set = rounds.find_set("esca-gold", "2013")
        values = {i.id: (3.0, "") for i in indicator_set.indicators}
        held = date.today() - timedelta(days=30)
        rounds.save_round(
            None, cluster, indicator_set, {"held_on": held, "kind": "self_assessment"}, values
        )
        draft = rounds.save_round(
            None, cluster, indicator_set, {"held_on": held, "confirm": False}, values
        )
        draft_id = draft.id
    assert _deliveries(app) == []
    with app.test_request_context(), tenant_scope(world["a"].id):
        from portal.benchmarking.models import BenchmarkRound

        rounds.confirm_round(None, db.session.get(BenchmarkRound, draft_id))
    (only,) = receiver.wait_for(1)
    assert only.json["type"] == "round.confirmed" and only.json["data"]["id"] == draft_id


def test_label_expiring_is_sent_once_per_label_and_stage(app, region, receiver):
    from portal.reminders import send_reminders

    world = region
    add_webhook(coordinator_client(app), receiver.url, events=["label.expiring"])
    today = date.today()
    with app.test_request_context(), tenant_scope(world["a"].id):
        label = Label(
            tenant_id=world["a"].id,
            cluster_id=world["c1"].id,
            scheme="esca",
            scheme_version="2020",
            level="bronze",
            awarded_on=today - timedelta(days=700),
            expires_on=today + timedelta(days=40),
            score=87.5,
        )
        db.session.add(label)
        db.session.commit()
        label_id = label.id
    for day, expected in ((today, 1), (today, 1), (today + timedelta(days=15), 2)):
        before = len(receiver.received)
        with app.app_context():
            counts = send_reminders(day)
        assert counts["webhook_label_expiring"] == expected - before
        receiver.wait_for(expected)
    first, second = (r.json for r in receiver.received)
    assert first["type"] == second["type"] == "label.expiring"
    assert first["data"]["id"] == second["data"]["id"] == label_id
    assert (first["data"]["expires_within_months"], second["data"]["expires_within_months"]) == (
        3,
        1,
    )
    assert first["id"] != second["id"] and "score" not in first["data"]
    assert "87.5" not in receiver.received[0].body.decode()


def test_retries_back_off_exponentially_then_give_up(app, region, receiver):
    world = region
    receiver.default = 500
    add_webhook(coordinator_client(app), receiver.url, events=["action.done"])
    _finish(app, world, plan_with_action(app, world["a"].id, world["c1"].id))
    receiver.wait_for(1)
    waits = []
    for tries in (1, 2, 3):
        (pending,) = _deliveries(app)
        assert (pending.status, pending.attempts, pending.response_status) == (
            "pending",
            tries,
            500,
        )
        assert pending.error_kind == "http" and "receiver says no" in pending.error
        last, due = _aware(pending.last_attempt_at), _aware(pending.next_attempt_at)
        waits.append((due - last).total_seconds())
        with app.app_context():
            early = deliveries.sweep(now=due - timedelta(seconds=1))
        assert (
            early == {"delivered": 0, "failed": 0, "skipped": 0, "left": 0}
            and len(receiver.received) == tries
        )
        with app.app_context():
            assert deliveries.sweep(now=due + timedelta(seconds=1))["failed"] == 1
        receiver.wait_for(tries + 1)
    assert waits == [60, 120, 240]
    (given_up,) = _deliveries(app)
    assert (given_up.status, given_up.attempts, given_up.next_attempt_at) == ("failed", 4, None)
    with app.app_context():
        assert deliveries.sweep(now=_aware(given_up.last_attempt_at) + timedelta(days=30)) == {
            "delivered": 0,
            "failed": 0,
            "skipped": 0,
            "left": 0,
        }
    assert len(receiver.received) == 4
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # one event, 4 tries


def test_a_slow_receiver_holds_the_request_only_within_the_budget(make_app, region, receiver):
    """Without a broker the web process delivers after the request, but starts no new try once
    WEBHOOK_INLINE_SECONDS are spent: the rest is due at once for the sweeper thread."""
    import time

    world = region
    app = make_app(WEBHOOK_CONFIG | {"WEBHOOK_INLINE_SECONDS": 0.2})
    receiver.on_request = lambda: time.sleep(0.5)
    add_webhook(coordinator_client(app), receiver.url, events=["round.confirmed"])
    enter_rounds(app, world["a"].id, world["c1"].id)  # two rounds, handed over together
    first, second = _deliveries(app)
    assert (first.status, first.attempts) == ("delivered", 1)
    assert (second.status, second.attempts) == ("pending", 0)
    with app.app_context():
        assert deliveries.sweep()["delivered"] == 1
    assert len(receiver.wait_for(2)) == 2


def test_a_receiver_that_recovers_gets_it_and_send_again_starts_over(app, region, receiver):
    world = region
    receiver.answers = [500]
    client = coordinator_client(app)
    hook = add_webhook(client, receiver.url, events=["action.done"])
    _finish(app, world, plan_with_action(app, world["a"].id, world["c1"].id))
    receiver.wait_for(1)
    (pending,) = _deliveries(app)
    with app.app_context():
        assert deliveries.sweep(now=_aware(pending.next_attempt_at))["delivered"] == 1
    (delivered,) = _deliveries(app)
    assert (delivered.status, delivered.attempts, delivered.response_status) == (
        "delivered",
        2,
        200,
    )
    # Sent again from the log (a receiver lost it): the same event id, from the first try.
    response = client.post(f"/nordland/settings/webhooks/{hook}/deliveries/{delivered.id}/again")
    assert response.status_code == 302
    receiver.wait_for(3)
    (again,) = _deliveries(app)
    assert (again.status, again.attempts) == ("delivered", 1)
    assert receiver.received[2].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
    log = client.get(f"/nordland/settings/webhooks/{hook}/deliveries").get_data(as_text=True)
    assert "An action is done" in log and "delivered" in log and "Send again" in log


def test_redirects_are_followed_only_to_addresses_a_webhook_may_have(app, region, receiver):
    world = region
    final = Receiver().start()
    try:
        receiver.answers, receiver.redirect = [307], final.url
        add_webhook(coordinator_client(app), receiver.url, events=["action.done"])
        action_id = plan_with_action(app, world["a"].id, world["c1"].id)
        _finish(app, world, action_id)
        final.wait_for(1)
        assert _deliveries(app)[0].status == "delivered"
        # Loopback is no longer allowed once the first receiver answers: the redirect to the
        # second one is refused before anything is sent there.
        receiver.answers = [307]
        receiver.on_request = lambda: app.config.update(WEBHOOK_ALLOW_PRIVATE_TARGETS=False)
        _finish(app, world, plan_with_action(app, world["a"].id, world["c1"].id))
        receiver.wait_for(2)
        refused = _deliveries(app)[1]
        assert (refused.status, refused.error_kind) == ("pending", "refused")
        assert len(final.received) == 1
    finally:
        final.stop()


def test_a_change_rolled_back_leaves_no_delivery(app, region, receiver):
    world = region
    add_webhook(coordinator_client(app), receiver.url, events=["label.awarded"])
    with app.test_request_context(), tenant_scope(world["a"].id):
        db.session.add(
            Label(
                cluster_id=world["c1"].id,
                scheme="esca",
                scheme_version="2020",
                level="bronze",
                awarded_on=date.today(),
                expires_on=date.today() + timedelta(days=400),
            )
        )
        db.session.flush()
        db.session.rollback()
    assert _deliveries(app) == [] and receiver.received == []


def test_a_switched_off_webhook_gets_nothing(app, region, receiver):
    world = region
    client = coordinator_client(app)
    hook = add_webhook(client, receiver.url, events=["action.done"], active="")
    _finish(app, world, plan_with_action(app, world["a"].id, world["c1"].id))
    assert _deliveries(app) == [] and receiver.received == []
    # A delivery written before it was switched off is not sent either.
    with app.test_request_context(), tenant_scope(world["a"].id):
        payload = envelope("action.done", "evt_test", "nordland", {"id": 1})
        insert_deliveries(db.session, [delivery_row(hook, world["a"].id, payload)])
        db.session.commit()
    (written,) = _deliveries(app)
    assert (written.status, written.error_kind) == ("failed", "inactive")
    assert receiver.received == []


def _fill_log(app, world, hook: int, count: int) -> None:
    with app.test_request_context(), tenant_scope(world["a"].id):
        rows = [
            delivery_row(hook, world["a"].id, envelope("action.done", f"evt_{i}", "nordland", {}))
            | {"status": "delivered", "attempts": 1, "response_status": 200}
            for i in range(count)
        ]
        insert_deliveries(db.session, rows)
        db.session.info.clear()  # written as delivered: nothing to hand over
        db.session.commit()


def test_the_delivery_log_pages_with_flat_queries(app, region):
    world = region
    client = coordinator_client(app)
    hook = add_webhook(client, "http://127.0.0.1:9/nobody", events=["action.done"])
    url = f"/nordland/settings/webhooks/{hook}/deliveries"
    _fill_log(app, world, hook, 3)
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    _fill_log(app, world, hook, 60)
    with count_queries(app) as many:
        page = client.get(url)
    assert len(many) == len(few), "\n".join(s[:100] for s in many)
    text = page.get_data(as_text=True)
    assert "Page 1 of 3" in text and text.count("Send again<") == 25
    assert "Page 3 of 3" in client.get(url + "?page=3").get_data(as_text=True)
    with app.app_context(), unscoped():
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 63
