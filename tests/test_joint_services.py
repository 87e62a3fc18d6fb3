"""Joint actions through the service layer: permissions, validation, conflicts, notices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from portal_joint import services
from portal_joint.models import JointAction, Participation
from sqlalchemy import func, insert, select
from werkzeug.exceptions import Forbidden

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.programmes.models import Programme
from portal.tenancy import tenant_scope
from tests.conftest import count_queries
from tests.process_support import build_process


@pytest.fixture
def joint(app, world, factory):
    factory.enable_plugin(world["a"], "joint")
    process = build_process(app, world)
    return world, process


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


def _new(world, process, **data):
    programme = db.session.get(Programme, process.programme_id)
    return services.create_action(
        _user("coord@a.example"),
        programme,
        {"title": "Joint branding", **data},
        clusters=[world["c1"].id, world["c2"].id],
        indicators=[("esca-gold", "2013", "communication")],
    )


def test_a_coordinator_creates_a_joint_action_with_participants(app, joint):
    world, process = joint
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _new(world, process, budget_money="12000,50", due_date=date(2027, 6, 1))
        assert action.budget_money == Decimal("12000.50")
        assert sorted(p.cluster.name for p in action.parts) == [
            "Arctic Minerals",
            "Helgeland Health",
        ]
        assert [i.indicator_id for i in action.indicators] == ["communication"]
        programme = db.session.get(Programme, process.programme_id)
        for email in ("manager@a.example", "observer@a.example", "assessor@a.example"):
            with pytest.raises(Forbidden):
                services.create_action(_user(email), programme, {"title": "Mine"})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"budget_money": "lots"}, "budget_money"),
        ({"budget_hours": "-5"}, "budget_hours"),
        ({"budget_money": "1e12"}, "budget_money"),
        ({"start_date": date(2027, 1, 2), "due_date": date(2027, 1, 1)}, "due_date"),
        ({"lead_cluster_id": 987654}, "lead_cluster_id"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(app, joint, data, field):
    world, process = joint
    with app.test_request_context(), tenant_scope(world["a"].id):
        programme = db.session.get(Programme, process.programme_id)
        with pytest.raises(ServiceError) as error:
            services.create_action(_user("coord@a.example"), programme, {"title": "Ok", **data})
        assert field in error.value.field_errors
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(JointAction)) == 0


def test_the_lead_manages_and_a_stale_version_is_refused(app, joint):
    world, process = joint
    with app.test_request_context(), tenant_scope(world["a"].id):
        manager = _user("manager@a.example")
        action = _new(world, process)
        with pytest.raises(Forbidden):
            services.move(manager, action, "planned")
        services.update_action(_user("coord@a.example"), action, {"lead_user_id": manager.id})
        version = action.version
        services.move(manager, action, "in_progress", version)
        with pytest.raises(ConflictError):
            services.move(manager, action, "done", version)  # the old version
        with pytest.raises(ServiceError):
            services.move(manager, action, "sideways")
        assert action.status == "in_progress"


def test_managers_join_leave_and_keep_only_their_own_contribution(app, joint, factory):
    world, process = joint
    c3 = factory.cluster(world["a"], "Salten Energy")
    with app.test_request_context(), tenant_scope(world["a"].id):
        manager, member = _user("manager@a.example"), _user("member@a.example")
        action = _new(world, process)
        own = next(p for p in action.parts if p.cluster_id == world["c1"].id)
        other = next(p for p in action.parts if p.cluster_id == world["c2"].id)
        services.update_part(
            manager, own, {"progress": "40", "money_spent": "1500", "solo_money": ""}
        )
        assert own.progress == 40 and own.solo_money is None and own.money_spent == 1500
        for who, part in ((manager, other), (member, own), (_user("observer@a.example"), own)):
            with pytest.raises(Forbidden):
                services.update_part(who, part, {"progress": 10})
        with pytest.raises(ServiceError) as error:
            services.update_part(manager, own, {"progress": 140, "hours_spent": "x"})
        assert set(error.value.field_errors) == {"progress", "hours_spent"}
        with pytest.raises(Forbidden):
            services.join(manager, action, db.session.get(Cluster, c3.id))  # not their cluster
        services.leave(manager, own, date.today())
        with pytest.raises(ServiceError):
            services.leave(manager, own)
        again = services.join(manager, action, db.session.get(Cluster, world["c1"].id))
        assert again.id == own.id and again.left_on is None


def test_participants_are_told_of_changes(app, joint):
    """Through the core's notification centre (kinds ``joint.*``)."""
    world, process = joint
    joint_kind = Notification.kind.like("joint.%")
    with app.test_request_context(), tenant_scope(world["a"].id):
        coord, manager = _user("coord@a.example"), _user("manager@a.example")
        action = _new(world, process)
        services.move(coord, action, "planned")
        notices = db.session.scalars(select(Notification).where(joint_kind)).all()
        # the manager of c1 (c2 has no manager); not the coordinator who moved it
        assert [(n.recipient_id, n.kind, n.params["detail"]) for n in notices] == [
            (manager.id, "joint.status", "planned")
        ]
        part = next(p for p in action.parts if p.cluster_id == world["c2"].id)
        services.update_part(coord, part, {"owner_id": _user("member@a.example").id})
        services.update_action(coord, action, {"title": "Joint branding 2027"})
        kinds = sorted(
            (n.recipient_id, n.kind)
            for n in db.session.scalars(select(Notification).where(joint_kind))
        )
        member_id = _user("member@a.example").id
        assert (member_id, "joint.changed") in kinds and (manager.id, "joint.changed") in kinds


def test_the_board_runs_a_fixed_number_of_queries(app, joint):
    world, process = joint
    with app.test_request_context(), tenant_scope(world["a"].id):
        _new(world, process)
        with count_queries(app) as few:
            services.board(process.programme_id)
        tenant_id = world["a"].id
        ids = [
            db.session.scalar(
                insert(JointAction)
                .values(
                    tenant_id=tenant_id,
                    programme_id=process.programme_id,
                    title=f"Action {i}",
                    aim="",
                    status="planned",
                    origin="manual",
                    version=1,
                )
                .returning(JointAction.id)
            )
            for i in range(40)
        ]
        db.session.execute(
            insert(Participation),
            [
                {
                    "tenant_id": tenant_id,
                    "action_id": action_id,
                    "cluster_id": cluster_id,
                    "joined_on": date(2026, 1, 1),
                    "tasks": "",
                    "status": "in_progress",
                    "progress": 10,
                    "hours_spent": 0,
                    "money_spent": 0,
                    "version": 1,
                }
                for action_id in ids
                for cluster_id in (world["c1"].id, world["c2"].id)
            ],
        )
        db.session.commit()
        with count_queries(app) as many:
            found = services.board(process.programme_id)
        assert len(found) == 41 and sum(len(a.parts) for a in found) == 82
        assert len(many) == len(few) <= 5
