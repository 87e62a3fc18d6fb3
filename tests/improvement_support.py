"""Building the improvement loop for tests: confirmed rounds of hand-picked values and plan
actions aimed at indicators, so the pages' numbers can be checked exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update

from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.extensions import db
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant

TODAY = date.today()
SET = ("esca-gold", "2013")
ENGAGEMENT = (*SET, "engagement")  # points 0-5, higher is better
STRATEGY = (*SET, "strategy_process")
BEFORE_DAY = TODAY - timedelta(days=500)  # a round before the actions start
AFTER_DAY = TODAY - timedelta(days=50)  # a round after they end
STARTS = TODAY - timedelta(days=400)
DUE = TODAY - timedelta(days=100)


def add_round(app, tenant_id: int, cluster_id: int, held_on: date, values: dict) -> int:
    """A confirmed benchmarking of the ESCA set with ``values`` (indicator id -> number)."""
    with app.test_request_context(), tenant_scope(tenant_id):
        found = BenchmarkRound(
            tenant_id=tenant_id,
            cluster_id=cluster_id,
            held_on=held_on,
            indicator_set=SET[0],
            set_version=SET[1],
            assessor="Expert",
            notes="",
            confirmed_at=datetime.now(UTC),
        )
        db.session.add(found)
        db.session.flush()
        db.session.add_all(
            IndicatorValue(
                tenant_id=tenant_id,
                round_id=found.id,
                indicator_id=indicator_id,
                value=value,
                light="green",
            )
            for indicator_id, value in values.items()
        )
        db.session.commit()
        return found.id


def set_min_group(app, tenant_id: int, size: int) -> None:
    with app.app_context():
        db.session.execute(
            update(Tenant).where(Tenant.id == tenant_id).values(values_min_group=size)
        )
        db.session.commit()


def add_action(app, tenant_id: int, plan_id: int, keys, clusters=None, **values) -> int:
    """A plan action through the services, aimed at ``keys``."""
    from portal.plans import services
    from portal.plans.models import Plan

    with app.test_request_context(), tenant_scope(tenant_id):
        plan = db.session.get(Plan, plan_id)
        data = {"title": "Member survey", "start_date": STARTS, "due_date": DUE}
        data.update(values)
        action = services.create_action(None, plan, data, clusters, indicator_keys=list(keys))
        return action.id


def locking_action(world) -> dict:
    """An action of a region that uses the ESCA set (for the table of locked forms)."""
    from tests import locking_support

    locking_support._enable(world, "esca")
    return locking_support.action(world)


def linked_indicators(_world, ids) -> list[str]:
    """The indicators the action aims at, as texts (``Edit.stored``)."""
    db.session.expire_all()
    from portal.plans.models import ActionIndicator

    return sorted(
        "/".join(link.key)
        for link in db.session.scalars(
            select(ActionIndicator).where(ActionIndicator.action_id == ids["id"])
        )
    )


def build_region(app, world, factory) -> dict:
    """The region of tests/test_improvement_pages.py: Arctic Minerals (c1) works on
    engagement with a member survey (done); Helgeland Health (c2), Ocean Tech (c3) and
    Saltfjord Food (c4) stay out. Values (points 0-5) before and after: 2 -> 4, 2 -> 3,
    3 -> 4, 4 -> 5. Groups of at least 3; other@a.example manages c2."""
    from tests.process_support import build_process

    process = build_process(app, world, actions=1)
    a = world["a"]
    factory.enable_plugin(a, "esca")
    c3 = factory.cluster(a, "Ocean Tech")
    c4 = factory.cluster(a, "Saltfjord Food")
    factory.user("other@a.example", tenant=a, role="cluster_manager", clusters=[world["c2"]])
    values = {
        world["c1"].id: (2, 4),
        world["c2"].id: (2, 3),
        c3.id: (3, 4),
        c4.id: (4, 5),
    }
    for cluster_id, (before, after) in values.items():
        add_round(app, a.id, cluster_id, BEFORE_DAY, {"engagement": before})
        add_round(app, a.id, cluster_id, AFTER_DAY, {"engagement": after})
    set_min_group(app, a.id, 3)
    action_id = add_action(
        app, a.id, process.plan_id, [ENGAGEMENT], title="Member survey", status="done"
    )
    return {**world, "process": process, "action_id": action_id, "c3": c3, "c4": c4}
