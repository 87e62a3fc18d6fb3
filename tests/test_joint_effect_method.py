"""The joint action's effect is the core's one method (toolkit.Measurer): the clusters that did
other work on the same indicator in the same window are not among the others, the core's
privacy rule decides what a viewer sees, and the plugin answers the ``indicator_work`` hook."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_login import login_user
from portal_joint import effects, services
from portal_joint import work as joint_work
from sqlalchemy import select

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.plans import services as plans
from portal.tenancy import tenant_scope
from tests.conftest import count_queries
from tests.test_joint_effects import DUE, START, _action, forum  # noqa: F401  (the fixture)

COMMUNICATION = ("esca-gold", "2013", "communication")


def _own_action(cluster_id, **data):
    """A cluster's own action on communication (its individual plan)."""
    cluster = db.session.get(Cluster, cluster_id)
    plan = plans.create_plan(
        None,
        {"title": "Own plan", "start_date": date(2024, 1, 1), "end_date": date(2027, 1, 1)},
        tenant_id=cluster.tenant_id,
        cluster=cluster,
    )
    values = {"title": "Own newsletter", "status": "done", **data}
    return plans.create_action(None, plan, values, indicator_keys=[COMMUNICATION])


def test_others_who_did_their_own_work_on_it_in_the_window_are_left_out(app, forum):  # noqa: F811
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        _own_action(ids["c3"], start_date=date(2025, 4, 1), due_date=date(2025, 8, 1))
        _own_action(ids["c4"], start_date=date(2024, 2, 1), due_date=date(2024, 6, 1))  # before
        action = _action(process, ids, status="done")
        communication, services_row = effects.for_action(action)
        # c3 worked on communication in the same window: in neither group; c4's own action
        # ended before this one started: it stayed out of such work in the window.
        assert (communication.effect.worked.clusters, communication.effect.others.clusters) == (
            2,
            1,
        )
        assert communication.effect.reason == "too_few"  # one other is below the group of 2
        assert communication.effect.worked.change == 2  # the workers' own means stay shown
        assert communication.effect.others.before is None
        # on the other linked indicator nobody else worked: both others count
        assert services_row.effect.others.clusters == 2 and services_row.effect.enough


def test_a_cluster_in_another_joint_action_on_it_is_left_out(app, forum):  # noqa: F811
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        _action(process, ids, clusters=("c4",), title="Media days", status="in_progress")
        action = _action(process, ids, status="done")
        row = effects.for_action(action)[0]
        assert (row.effect.worked.clusters, row.effect.others.clusters) == (2, 1)
        # a cancelled joint action is no work
        other = next(a for a in services.board(process.programme_id) if a.title == "Media days")
        other.status = "cancelled"
        db.session.commit()
        row = effects.for_action(action)[0]
        assert (row.effect.others.clusters, row.effect.reason) == (2, "ok")


def test_the_core_privacy_rule_a_coordinator_sees_a_group_of_one(app, forum):  # noqa: F811
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(process, ids, clusters=("c1",), status="done")
        anonymous = effects.for_action(action)[0].effect
        assert anonymous.reason == "too_few" and anonymous.worked.before is None
        coordinator = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        login_user(coordinator)
        seen = effects.for_action(action)[0].effect
        # the coordinator may see each cluster: a group of one is shown to them
        assert seen.reason == "ok" and seen.worked.clusters == 1
        assert (seen.worked.before, seen.worked.after) == (Decimal(2), Decimal(4))
        # the others: c2 went from 2 to 4, c3 and c4 stayed at 3: a mean change of 2/3
        assert seen.others.clusters == 3 and seen.difference == Decimal(2) - Decimal(2) / 3


def test_the_hook_answers_a_piece_of_work_per_linked_indicator(app, forum):  # noqa: F811
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(process, ids, clusters=("c1", "c2", "c3"), status="in_progress")
        parts = {p.cluster_id: p for p in action.parts}
        for part in parts.values():
            part.joined_on = START
        parts[ids["c1"]].money_spent = Decimal("1200.50")
        parts[ids["c2"]].hours_spent = Decimal("10.5")
        services.leave(None, parts[ids["c3"]], DUE - timedelta(days=10))
        _action(process, ids, title="Unlinked", clusters=("c4",))  # links both indicators too
        db.session.commit()
        with count_queries(app) as queries:
            found = joint_work.indicator_work([COMMUNICATION, ("other-set", "1", "x")])
        assert len(queries) == 2
        mine = next(w for w in found if w.id == action.id)
        assert [w.key for w in found if w.id == action.id] == [COMMUNICATION]
        assert mine.kind == "joint_action" and mine.status == "in_progress"
        assert mine.clusters == {ids["c1"], ids["c2"], ids["c3"]}
        assert mine.left_early == {ids["c3"]}
        assert (mine.start_date, mine.due_date) == (START, DUE)
        assert (mine.money_spent, mine.hours_spent) == (Decimal("1200.50"), Decimal("10.5"))
        assert (mine.endpoint, mine.args) == ("joint.detail", {"action_id": action.id})
        assert len(found) == 2
        assert joint_work.indicator_work([]) == []


def test_the_cluster_and_programme_summaries_count_joint_actions(app, forum):  # noqa: F811
    """A joint action is work of its programme and of each cluster taking part: the cluster
    and programme pages count it with the plans' actions."""
    from portal.improvement.summaries import cluster_summary, programme_summary
    from portal.programmes.models import Programme

    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        _action(process, ids, status="done")  # c1 and c2, on communication and services
        _own_action(ids["c1"], start_date=date(2025, 4, 1), due_date=date(2025, 8, 1))
        today = date.today()
        c1 = cluster_summary(db.session.get(Cluster, ids["c1"]), None, today)
        by_indicator = {row.info.key[2]: row.movement for row in c1}
        assert by_indicator["communication"].actions == 2  # its own and the joint action
        assert by_indicator["services"].actions == 1
        c3 = cluster_summary(db.session.get(Cluster, ids["c3"]), None, today)
        assert c3 == []  # it takes no part
        programme = db.session.get(Programme, process.programme_id)
        rows = {r.info.key[2]: r.movement for r in programme_summary(programme, None, today)}
        assert rows["services"].actions == 1 and rows["services"].done == 1
