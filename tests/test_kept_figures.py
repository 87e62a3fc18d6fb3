"""Plan and programme figures kept on every action write (portal.plans.figures) equal a full
recomputation from the actions after any sequence of writes; the recompute command rebuilds
them; progress and overdue counts read them."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

STATUSES = ["planned", "in_progress", "done", "blocked", "cancelled"]


def _today() -> date:
    return date.today()  # the suite's clock (PORTAL_TEST_TODAY moves the whole process)


def expected_figures():
    """Every figure recomputed from the actions, in Python (exact decimals)."""
    from portal.extensions import db
    from portal.plans.figures import part_of
    from portal.plans.models import Action, Plan

    sums = defaultdict(lambda: [0, 0, Decimal(0), Decimal(0)])
    due = defaultdict(int)
    rows = db.session.execute(
        select(Action.tenant_id, Action.plan_id, Action.status, Action.progress, Action.weight)
        .add_columns(Action.due_date, Plan.programme_id)
        .join(Plan, Plan.id == Action.plan_id)
    ).all()
    for tenant_id, plan_id, status, progress, weight, due_date, programme_id in rows:
        part = part_of(tenant_id, plan_id, status, progress, weight, due_date)
        owners = [("plan", plan_id)] + ([("programme", programme_id)] if programme_id else [])
        for owner in owners:
            for i, value in enumerate((part.counted, part.done, part.weight, part.weighted)):
                sums[owner][i] += value
            if part.open_due:
                due[(*owner, part.open_due)] += 1
    return _clean(sums), {k: v for k, v in due.items() if v}


def _clean(sums):
    return {k: tuple(v) for k, v in sums.items() if any(v)}


def kept_figures():
    from portal.extensions import db
    from portal.plans.figures import OpenDue, PlanFigures, ProgrammeFigures

    sums = {}
    for f in db.session.scalars(select(PlanFigures)):
        sums[("plan", f.plan_id)] = [f.counted, f.done, f.weight, f.weighted]
    for f in db.session.scalars(select(ProgrammeFigures)):
        sums[("programme", f.programme_id)] = [f.counted, f.done, f.weight, f.weighted]
    due = {}
    for row in db.session.scalars(select(OpenDue)):
        owner = ("plan", row.plan_id) if row.plan_id else ("programme", row.programme_id)
        if row.open:
            due[(*owner, row.due_date)] = row.open
    return _clean(sums), due


def _build(rng: random.Random, tenant_id: int):
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.plans.models import Plan, PlanKind
    from portal.programmes.models import Programme

    today = _today()
    programmes = [
        Programme(name=f"P{i}", start_date=today, end_date=today + timedelta(days=300))
        for i in range(3)
    ]
    clusters = [Cluster(name=f"C{i}") for i in range(4)]
    db.session.add_all(programmes + clusters)
    db.session.flush()
    plans = []
    for i, cluster in enumerate(clusters):
        programme = programmes[i % 3] if i < 3 else None
        plans.append(
            Plan(
                kind=PlanKind.INDIVIDUAL,
                cluster_id=cluster.id,
                programme_id=programme.id if programme else None,
                title=f"own {i}",
                start_date=today,
                end_date=today + timedelta(days=200),
            )
        )
    for programme in programmes[:2]:
        plans.append(
            Plan(
                kind=PlanKind.JOINT,
                programme_id=programme.id,
                title=f"joint {programme.name}",
                start_date=today,
                end_date=today + timedelta(days=200),
            )
        )
    db.session.add_all(plans)
    db.session.commit()
    return programmes, clusters


def _random_values(rng: random.Random) -> dict:
    today = _today()
    return {
        "status": rng.choice(STATUSES),
        "progress": rng.randint(0, 100),
        "weight": rng.choice([1.0, 0.5, 2.0, 0.33, 1.25, 7.0]),
        "due_date": rng.choice([None, today + timedelta(days=rng.randint(-20, 20))]),
    }


def _random_writes(rng: random.Random, steps: int) -> None:
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.plans.models import Action, Plan, PlanKind
    from portal.programmes.models import Programme

    for _step in range(steps):
        plans = db.session.scalars(select(Plan).order_by(Plan.id)).all()
        actions = db.session.scalars(select(Action).order_by(Action.id)).all()
        programmes = db.session.scalars(select(Programme).order_by(Programme.id)).all()
        # Several changes in one flush now and then, one at a time mostly.
        for _change in range(rng.choice([1, 1, 1, 3])):
            kind = rng.random()
            if (kind < 0.35 or not actions) and plans:
                plan = rng.choice(plans)
                values = _random_values(rng)
                if rng.random() < 0.3:  # defaults left to the model
                    values = {"due_date": values["due_date"]}
                db.session.add(Action(plan_id=plan.id, title="a", **values))
            elif kind < 0.65 and actions:
                action = rng.choice(actions)
                for name, value in _random_values(rng).items():
                    if rng.random() < 0.5:
                        setattr(action, name, value)
            elif kind < 0.78 and actions and plans:
                rng.choice(actions).plan_id = rng.choice(plans).id
            elif kind < 0.9 and actions:
                action = rng.choice(actions)
                actions.remove(action)
                db.session.delete(action)
            elif kind < 0.95 and plans:
                plan = rng.choice([p for p in plans if p.kind == PlanKind.INDIVIDUAL] or plans)
                if plan.kind == PlanKind.INDIVIDUAL:
                    plan.programme_id = rng.choice([None, *(p.id for p in programmes)])
            elif kind < 0.98 and len(plans) > 2:
                plan = rng.choice(plans)
                db.session.delete(plan)
                plans.remove(plan)
                actions = [a for a in actions if a.plan_id != plan.id]
            else:
                clusters = db.session.scalars(select(Cluster)).all()
                if len(clusters) > 1:
                    db.session.delete(rng.choice(clusters))
                    db.session.flush()
                    db.session.expire_all()
                    break
        if rng.random() < 0.2:
            db.session.rollback()  # a failed request: nothing of it may count
        else:
            db.session.commit()
        db.session.expire_all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_figures_equal_a_full_recomputation_after_random_writes(app, factory, seed):
    from portal.extensions import db
    from portal.tenancy import tenant_scope

    tenant = factory.tenant(f"region{seed}")
    rng = random.Random(seed)
    with app.test_request_context(), tenant_scope(tenant.id):
        _build(rng, tenant.id)
        for _round in range(6):
            _random_writes(rng, 15)
            assert kept_figures() == expected_figures()
        db.session.remove()


def test_recompute_command_rebuilds_lost_figures(app, factory, runner):
    from portal.extensions import db
    from portal.plans.figures import OpenDue, PlanFigures, ProgrammeFigures
    from portal.tenancy import tenant_scope

    tenant = factory.tenant("recomputed")
    with app.test_request_context(), tenant_scope(tenant.id):
        _build(random.Random(7), tenant.id)
        _random_writes(random.Random(7), 30)
        before = kept_figures()
        assert before[0]
        for model in (PlanFigures, ProgrammeFigures, OpenDue):
            db.session.execute(model.__table__.delete())
        db.session.commit()
        assert kept_figures() == ({}, {})
    result = runner.invoke(args=["figures", "recompute"])
    assert result.exit_code == 0, result.output
    with app.test_request_context(), tenant_scope(tenant.id):
        assert kept_figures() == before == expected_figures()


def test_progress_and_overdue_read_the_kept_figures(app, factory):
    from portal.extensions import db
    from portal.plans import progress
    from portal.plans.models import Action, Plan, PlanKind
    from portal.programmes.models import Programme
    from portal.tenancy import tenant_scope

    tenant = factory.tenant("reading")
    today = _today()
    with app.test_request_context(), tenant_scope(tenant.id):
        programme = Programme(name="P", start_date=today, end_date=today + timedelta(days=9))
        db.session.add(programme)
        db.session.flush()
        plan = Plan(
            kind=PlanKind.JOINT,
            programme_id=programme.id,
            title="J",
            start_date=today,
            end_date=today + timedelta(days=9),
        )
        db.session.add(plan)
        db.session.flush()
        yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
        db.session.add_all(
            [
                Action(plan_id=plan.id, title="1", progress=50, weight=1.0, due_date=yesterday),
                Action(plan_id=plan.id, title="2", progress=0, weight=2.0, due_date=tomorrow),
                Action(plan_id=plan.id, title="3", status="done", weight=0.5, due_date=yesterday),
                Action(plan_id=plan.id, title="4", status="cancelled", due_date=yesterday),
            ]
        )
        db.session.commit()
        done = progress.plans_progress([plan.id])[plan.id]
        # (50 x 1 + 0 x 2 + 100 x 0.5) / 3.5, exact: never rounded across a threshold.
        assert done.percent == Decimal(100) / Decimal("3.5")
        assert (done.actions, done.done) == (3, 1)
        assert progress.programme_progress(programme.id) == done
        total, overdue = progress.programme_progress_and_overdue(programme.id, today)
        assert total == done and overdue == 1
        # A day passing needs no write: two days on, the second action is overdue too.
        assert progress.programme_overdue(programme.id, today + timedelta(days=2)) == 2
        assert progress.plans_overdue([plan.id], today + timedelta(days=2)) == {plan.id: 2}
        assert progress.clusters_overdue(programme.id, today + timedelta(days=2)) == {None: 2}
