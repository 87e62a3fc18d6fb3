"""The improvement summaries (programme, cluster and plan pages) are kept by the process while
the region's work on indicators and its rounds stay as they were
(``portal.improvement.summaries._kept_summary``): a write that changes an action's progress,
or a comment, leaves them in place; a change of anything the work holds (title, status, dates,
aims, responsible clusters, the day a done action without a due day was last changed) or a
round renews them. Each kept answer equals one worked out afresh."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.improvement import summaries
from portal.improvement.work import REGION_ACTION_WORK
from portal.plans import services as plans
from portal.plans.models import Action, Plan
from portal.programmes.models import Programme
from portal.tenancy import tenant_scope
from tests import improvement_support as build


@pytest.fixture
def region(app, world, factory):
    return build.build_region(app, world, factory)  # the survey aims at engagement, done


def _shape(rows) -> list:
    """What a summary says, as plain values."""
    return [
        (
            row.info.key,
            row.movement,
            row.hidden,
            row.history,
            [
                (
                    line.work.id,
                    line.work.title,
                    line.work.status,
                    sorted(line.work.clusters),
                    line.work.changed_on,
                    line.moved,
                    line.measured.effect,
                )
                for line in row.lines
            ],
        )
        for row in rows
    ]


def _summaries(app, region, email: str) -> dict:
    """Each page's summary as a reading request gets it: kept or worked out."""
    tenant_id = region["a"].id
    with app.test_request_context("/", method="GET"), tenant_scope(tenant_id):
        user = db.session.scalar(select(User).where(User.email == email))
        today = build.TODAY
        programme = db.session.get(Programme, region["process"].programme_id)
        plan = db.session.get(Plan, region["process"].plan_id)
        cluster = db.session.get(Cluster, region["c1"].id)
        return {
            "programme": summaries.programme_summary(programme, user, today),
            "cluster": summaries.cluster_summary(cluster, user, today),
            "plan": summaries.plan_indicators(plan, user, today).rows,
        }


def _fresh(app, region, email: str) -> dict:
    """The same worked out afresh (the keeps set aside, then put back): the summaries and
    the region's work their measurers read."""
    names = (summaries.SUMMARIES.name, REGION_ACTION_WORK.name)
    kept = {name: app.extensions.pop(name, None) for name in names}
    try:
        return _summaries(app, region, email)
    finally:
        for name in names:
            if kept[name] is not None:
                app.extensions[name] = kept[name]
            else:
                app.extensions.pop(name, None)


def _write(app, region, **data) -> None:
    with app.test_request_context(), tenant_scope(region["a"].id):
        action = db.session.get(Action, region["action_id"])
        clusters = data.pop("clusters", None)
        keys = data.pop("keys", None)
        plans.update_action(None, action, data, cluster_ids=clusters, indicator_keys=keys)


def _check(app, region, email: str, before: dict | None, *, kept: bool) -> dict:
    """The summaries now: each the same object as ``before`` when ``kept``, a new one
    otherwise; and equal to a fresh computation either way."""
    now = _summaries(app, region, email)
    for page, rows in now.items():
        if before is not None:
            assert (rows is before[page]) == kept or page == "plan", page
            if page == "plan":  # rebuilt around the kept rows (the cluster's history)
                assert (rows[0].lines is before[page][0].lines) == kept
        assert _shape(rows) == _shape(_fresh(app, region, email)[page]), page
    return now


@pytest.mark.parametrize("email", ["coord@a.example", "other@a.example"])
def test_kept_through_progress_and_comments_renewed_by_every_change_of_the_work(app, region, email):
    first = _check(app, region, email, None, kept=False)
    assert first["programme"][0].lines[0].work.title == "Member survey"
    again = _check(app, region, email, first, kept=True)

    _write(app, region, progress=40)  # what no summary shows
    again = _check(app, region, email, again, kept=True)
    with app.test_request_context(), tenant_scope(region["a"].id):
        coordinator = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        plans.add_comment(coordinator, db.session.get(Action, region["action_id"]), "Done?", [])
    again = _check(app, region, email, again, kept=True)

    _write(app, region, title="Member survey, second wave")
    again = _check(app, region, email, again, kept=False)
    assert again["programme"][0].lines[0].work.title == "Member survey, second wave"
    _write(app, region, status="in_progress")
    again = _check(app, region, email, again, kept=False)
    assert again["programme"][0].movement.done == 0
    _write(app, region, due_date=build.DUE - timedelta(days=10))
    again = _check(app, region, email, again, kept=False)
    _write(app, region, clusters=[region["c1"].id, region["c3"].id])
    again = _check(app, region, email, again, kept=False)
    assert again["programme"][0].lines[0].work.clusters == {region["c1"].id, region["c3"].id}
    _write(app, region, keys=[build.ENGAGEMENT, build.STRATEGY])
    again = _check(app, region, email, again, kept=False)
    assert len(again["programme"]) == 2

    # A round of the region (the ``region`` scope): the values measured move.
    build.add_round(
        app, region["a"].id, region["c3"].id, build.AFTER_DAY + timedelta(days=1), {"engagement": 1}
    )
    again = _check(app, region, email, again, kept=False)


def test_a_later_days_change_renews_them_only_where_the_work_ends_that_day(app, region):
    """A work's ``changed_on`` (the day of its last write) counts only for a done action
    without a due day, whose window ends the day it was last changed: tomorrow's change of
    an action with a due day keeps the summaries; without one, tomorrow's first change renews
    them and the second does not."""
    email = "coord@a.example"
    before = _check(app, region, email, None, kept=False)
    assert before["programme"][0].lines[0].work.changed_on is None  # done, with a due day
    noon_tomorrow = datetime.combine(build.TODAY + timedelta(days=1), time(12), tzinfo=UTC)
    with time_machine.travel(noon_tomorrow, tick=False):
        _write(app, region, progress=55)
        before = _check(app, region, email, before, kept=True)
    _write(app, region, due_date=None)  # now it ends the day it was last changed
    before = _check(app, region, email, before, kept=False)
    assert before["programme"][0].lines[0].work.changed_on == build.TODAY
    with time_machine.travel(noon_tomorrow, tick=False):
        _write(app, region, progress=58)
        after = _check(app, region, email, before, kept=False)
        assert after["programme"][0].lines[0].work.changed_on == build.TODAY + timedelta(days=1)
        _write(app, region, progress=60)
        _check(app, region, email, after, kept=True)


def test_a_writing_request_works_them_out_and_keeps_nothing(app, region):
    tenant_id = region["a"].id
    summaries.SUMMARIES.forget(app)
    with app.test_request_context("/", method="POST"), tenant_scope(tenant_id):
        user = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        programme = db.session.get(Programme, region["process"].programme_id)
        assert summaries.programme_summary(programme, user, build.TODAY)
    with app.app_context():
        assert len(summaries.SUMMARIES) == 0


def test_kept_through_any_write_to_an_action_aimed_at_nothing(app, region):
    """An action of the same plan aimed at no indicator is no work any summary shows (the
    ``aims`` scope stays): its status, title and due day leave them in place; once it aims
    at an indicator, its writes renew them."""
    email = "coord@a.example"
    tenant_id = region["a"].id
    other = build.add_action(app, tenant_id, region["process"].plan_id, [], title="Newsletter")
    first = _check(app, region, email, None, kept=False)

    def write(**data) -> None:
        with app.test_request_context(), tenant_scope(tenant_id):
            action = db.session.get(Action, other)
            keys = data.pop("keys", None)
            plans.update_action(None, action, data, indicator_keys=keys)

    write(status="in_progress", title="Newsletter, monthly", due_date=build.DUE)
    again = _check(app, region, email, first, kept=True)
    write(keys=[build.ENGAGEMENT])  # now work on engagement: in every summary
    again = _check(app, region, email, again, kept=False)
    assert {line.work.title for line in again["programme"][0].lines} == {
        "Member survey",
        "Newsletter, monthly",
    }
    write(status="done")
    _check(app, region, email, again, kept=False)


def test_the_work_read_for_one_region_is_that_regions_own(app, region):
    """The work is read as columns, not objects: the tenant's scope still applies to them."""
    from portal.improvement.work import plan_action_work

    with app.test_request_context(), tenant_scope(region["a"].id):
        assert [w.title for w in plan_action_work()] == ["Member survey"]
        assert plan_action_work()[0].status == "done"
    with app.test_request_context(), tenant_scope(region["b"].id):
        assert plan_action_work() == []


def test_the_regions_work_is_kept_while_its_work_on_indicators_stays(app, region):
    """``region_work`` (every measurer's and the forum over time's) is kept by the process
    for reading requests: through a write to an action aimed at nothing, renewed by a write to
    an aimed one, each answer equal to a fresh read."""
    from portal.improvement.work import region_work
    from portal.tenancy.models import Tenant

    tenant_id = region["a"].id
    other = build.add_action(app, tenant_id, region["process"].plan_id, [], title="Newsletter")

    def read() -> tuple[list, list]:
        with app.test_request_context("/", method="GET"), tenant_scope(tenant_id):
            tenant = db.session.get(Tenant, tenant_id)
            kept = region_work(tenant, [build.ENGAGEMENT])
            with app.test_request_context("/", method="POST"):  # not kept: read afresh
                fresh = region_work(tenant, [build.ENGAGEMENT])
            return kept, fresh

    def write(action_id: int, **data) -> None:
        with app.test_request_context(), tenant_scope(tenant_id):
            plans.update_action(None, db.session.get(Action, action_id), data)

    first, fresh = read()
    assert first == fresh and [w.title for w in first] == ["Member survey"]
    write(other, status="in_progress", title="Newsletter, monthly")
    again, fresh = read()
    assert again[0] is first[0] and again == fresh
    write(region["action_id"], title="Member survey, second wave", status="in_progress")
    again, fresh = read()
    assert again[0] is not first[0] and again == fresh
    assert [(w.title, w.status) for w in again] == [("Member survey, second wave", "in_progress")]
