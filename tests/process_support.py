"""Building programmes, plans and actions for tests, through the services."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant

TODAY = date.today()


def build_process(app, world, actions: int = 3) -> SimpleNamespace:
    """A programme with both clusters, a joint plan, an individual plan of c1 with actions."""
    from portal.plans import services as plans
    from portal.programmes import services as programmes

    with app.test_request_context(), tenant_scope(world["a"].id):
        tenant = db.session.get(Tenant, world["a"].id)
        c1 = db.session.get(Cluster, world["c1"].id)
        c2 = db.session.get(Cluster, world["c2"].id)
        manager = db.session.scalar(select(User).where(User.email == "manager@a.example"))
        member = db.session.scalar(select(User).where(User.email == "member@a.example"))
        programme = programmes.create_programme(
            None,
            {
                "name": "Forum 2026-2028",
                "start_date": TODAY - timedelta(days=100),
                "end_date": TODAY + timedelta(days=600),
            },
            tenant.id,
        )
        programmes.add_participant(None, programme, c1, "Silver before the bronze label expires")
        programmes.add_participant(None, programme, c2, "Bronze benchmarking")
        joint = plans.create_plan(
            None,
            {
                "title": "Joint plan",
                "start_date": programme.start_date,
                "end_date": programme.end_date,
            },
            tenant_id=tenant.id,
            programme=programme,
        )
        own = plans.create_plan(
            None,
            {
                "title": "Arctic plan",
                "start_date": programme.start_date,
                "end_date": programme.end_date,
            },
            tenant_id=tenant.id,
            cluster=c1,
        )
        own.programme_id = programme.id
        db.session.commit()
        ids = []
        for i in range(actions):
            action = plans.create_action(
                None,
                own,
                {
                    "title": f"Action {i:03d}",
                    "owner_id": member.id if i % 2 else manager.id,
                    "start_date": TODAY - timedelta(days=10),
                    "due_date": TODAY + timedelta(days=i - 1),
                    "progress": 10 * i % 100,
                },
            )
            ids.append(action.id)
        joint_action = plans.create_action(
            None,
            joint,
            {
                "title": "Joint branding",
                "owner_id": manager.id,
                "due_date": TODAY + timedelta(days=30),
            },
            [c1.id, c2.id],
        )
        return SimpleNamespace(
            programme_id=programme.id,
            joint_id=joint.id,
            plan_id=own.id,
            action_ids=ids,
            joint_action_id=joint_action.id,
            manager_id=manager.id,
            member_id=member.id,
        )
