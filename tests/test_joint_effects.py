"""The effect of a joint action on its linked indicators, from real benchmarking rounds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext, ngettext
from portal_joint import effects, services
from portal_joint.models import JointAction
from sqlalchemy import select

from portal.benchmarking import services as rounds
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.programmes.models import Programme
from portal.tenancy import tenant_scope
from portal.toolkit import window_of
from tests.conftest import count_queries, login
from tests.process_support import build_process

START, DUE = date(2025, 3, 1), date(2025, 9, 30)
BEFORE, DURING, AFTER, LATER = (
    date(2025, 1, 15),
    date(2025, 6, 1),
    date(2025, 10, 15),
    date(2026, 1, 10),
)


def _enter(cluster_id, on, score, **overrides):
    cluster = db.session.get(Cluster, cluster_id)
    indicator_set = rounds.find_set("esca-gold", "2013")
    values = {i.id: (float(overrides.get(i.id, score)), "") for i in indicator_set.indicators}
    rounds.save_round(None, cluster, indicator_set, {"held_on": on}, values)
    db.session.commit()


@pytest.fixture
def forum(app, world, factory):
    factory.enable_plugin(world["a"], "joint")
    factory.enable_plugin(world["a"], "esca")
    process = build_process(app, world)
    c3 = factory.cluster(world["a"], "Salten Energy")
    c4 = factory.cluster(world["a"], "Lofoten Seafood")
    with app.app_context():  # a small forum: groups of two may be shown
        from portal.tenancy.models import Tenant

        db.session.get(Tenant, world["a"].id).values_min_group = 2
        db.session.commit()
    ids = {"c1": world["c1"].id, "c2": world["c2"].id, "c3": c3.id, "c4": c4.id}
    with app.test_request_context(), tenant_scope(world["a"].id):
        # Participants c1, c2 improve communication by 2; the others c3, c4 stay put.
        for key in ("c1", "c2"):
            _enter(ids[key], BEFORE, 2, communication=2)
            _enter(ids[key], DURING, 1)  # during the action: neither before nor after
            _enter(ids[key], AFTER, 3, communication=4)
            _enter(ids[key], LATER, 5)  # not the first round after
        for key in ("c3", "c4"):
            _enter(ids[key], BEFORE, 3, communication=3)
            _enter(ids[key], AFTER, 3, communication=3)
    return world, process, ids


def _action(process, ids, *, clusters=("c1", "c2"), **data):
    programme = db.session.get(Programme, process.programme_id)
    values = {"title": "Joint branding", "start_date": START, "due_date": DUE, **data}
    return services.create_action(
        None,
        programme,
        values,
        indicators=[("esca-gold", "2013", "communication"), ("esca-gold", "2013", "services")],
        clusters=[ids[c] for c in clusters],
    )


def test_participants_against_the_others_before_and_after(app, forum):
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(process, ids, status="done")
        (link, name, effect), services_row = effects.for_action(action)
        assert (link.indicator_id, name) == ("communication", "Communication in the cluster")
        assert effect.reason == "ok" and effect.enough
        assert (effect.window.before_day, effect.window.after_day) == (
            START - timedelta(days=1),
            DUE,
        )
        ours, theirs = effect.worked, effect.others
        assert (ours.clusters, ours.before, ours.after, ours.change) == (2, 2, 4, 2)
        assert (theirs.clusters, theirs.before, theirs.after, theirs.change) == (2, 3, 3, 0)
        assert all(isinstance(v, Decimal) for v in (ours.before, ours.change, theirs.after))
        # the other linked indicator: every participant went from 2 to 3 (the round during
        # the action and the one after the first are not looked at)
        assert services_row.name == "Activities and services"
        assert services_row.effect.worked.change == 1


def test_a_passed_due_date_is_over_even_when_not_done(app, forum):
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(process, ids, status="in_progress")
        row = effects.for_action(action, today=DUE + timedelta(days=1))[0]
        assert row.effect.reason == "ok"
        early = effects.for_action(action, today=DUE)[0]  # due today: not over yet
        assert early.effect.reason == "not_over" and early.effect.window.after_day is None


def test_not_over_yet_reads_no_rounds(app, forum):
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(
            process, ids, due_date=date.today() + timedelta(days=30), status="in_progress"
        )
        action = db.session.get(JointAction, action.id)
        list(action.parts), list(action.indicators)
        with count_queries(app) as queries:
            rows = effects.for_action(action)
        assert queries == []
        assert [r.effect.reason for r in rows] == ["not_over", "not_over"]


def test_too_few_clusters_is_said_plainly(app, forum):
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(process, ids, clusters=("c1",), status="done")
        row = effects.for_action(action)[0]
        assert row.effect.reason == "too_few" and not row.effect.enough
        # c2 did not take part: it counts with the others now
        assert row.effect.worked.clusters == 1 and row.effect.others.clusters == 3


def test_a_cluster_that_left_early_counts_in_neither_group(app, forum):
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(process, ids, clusters=("c1", "c2", "c3"), status="in_progress")
        parts = {p.cluster_id: p for p in action.parts}
        for part in parts.values():
            part.joined_on = START
        services.leave(None, parts[ids["c3"]], date(2025, 5, 1))  # before the due date
        row = effects.for_action(action, today=DUE + timedelta(days=1))[0]
        assert row.effect.worked.clusters == 2 and row.effect.others.clusters == 1
        assert row.effect.reason == "too_few"
        parts[ids["c3"]].left_on = DUE  # leaving on the due date: it took part
        row = effects.for_action(action, today=DUE + timedelta(days=1))[0]
        assert row.effect.worked.clusters == 3 and row.effect.others.clusters == 1


def test_before_is_the_day_it_was_created_without_a_start_date(app, forum):
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(process, ids, start_date=None, due_date=None, status="done")
        span = window_of(action, date.today())
        assert span.before_day == action.created_at.date() == span.after_day


def test_a_fixed_number_of_queries_whatever_the_number_of_indicators(app, forum):
    """The region's work on the indicators (the plugins switched on, the plan actions, the
    joint actions and their participants), the rounds' fingerprint (the values are kept by
    it), one query per set version for the values, and the region scope's version (the
    plugins' answers are kept by it; a cached page has read it already)."""
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        from flask import g

        from portal.tenancy.models import Tenant

        g.tenant = db.session.get(Tenant, world["a"].id)  # as a region's page has it
        counts = []
        action = _action(process, ids, status="done")
        effects.for_action(action)  # what the request loads once (the viewer's roles)
        for indicator in ("engagement", "maturity", "member_satisfaction"):
            action = db.session.get(JointAction, action.id)
            list(action.parts), list(action.indicators), g.tenant.slug
            # as a new request of a process that has not kept the plugins' answers
            g.pop("_plugin_work", None)
            g.pop("_scope_versions", None)
            app.extensions.pop("portal_plugin_work", None)
            with count_queries(app) as queries:
                rows = effects.for_action(action)
            counts.append((len(rows), len(queries)))
            services.link_indicator(None, action, "esca-gold", "2013", indicator)
            db.session.expire_all()
        assert counts == [(2, 6), (3, 6), (4, 6)], counts


def _render(app, world, process, ids, **data):
    from flask import render_template

    with app.test_request_context(), tenant_scope(world["a"].id):
        action = _action(process, ids, **data)
        return render_template("joint/_effect.html", effects=effects.for_action(action))


def test_the_fragment_draws_a_chart_with_the_counts_and_a_table(app, forum):
    world, process, ids = forum
    html = _render(app, world, process, ids, status="done")
    assert html.count("<svg") == 2
    assert "2 participants, 2 other clusters with a round before and after." in html
    assert "Participants (2)" in html and "Others (2)" in html
    assert "+2" in html and "Clusters that did not take part" in html
    assert "Too little data" not in html


def test_the_fragment_says_when_there_is_too_little_data_or_it_is_not_over(app, forum):
    world, process, ids = forum
    thin = _render(app, world, process, ids, clusters=("c1",), status="done")
    assert "Too little data to judge." in thin and "<svg" not in thin
    assert "1 participant, 3 other clusters with a round before and after." in thin
    early = _render(
        app,
        world,
        process,
        ids,
        title="Later",
        due_date=date.today() + timedelta(days=9),
        status="planned",
    )
    assert "Not over yet" in early and "<table" not in early


def test_the_detail_page_shows_the_effect(app, forum):
    world, process, ids = forum
    with app.test_request_context(), tenant_scope(world["a"].id):
        action_id = _action(process, ids, status="in_progress").id
    client = app.test_client()
    login(client, "observer@a.example")
    page = client.get(f"/nordland/joint/actions/{action_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "2 participants, 2 other clusters with a round before and after." in body


def test_the_demo_has_joint_actions_and_an_effect_to_show(app, runner):
    from portal.tenancy import unscoped
    from portal.tenancy.models import Tenant

    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0

    def joint_actions():
        with app.app_context(), unscoped():
            found = db.session.scalars(select(JointAction).order_by(JointAction.id)).all()
            return [
                (
                    a.title,
                    a.status.value,
                    a.origin,
                    sorted((p.cluster.name, p.left_on is not None) for p in a.parts),
                    [i.indicator_id for i in a.indicators],
                )
                for a in found
            ]

    first = joint_actions()
    titles = [a[0] for a in first]
    assert titles == [
        "Felles merkevare og kommunikasjon",
        "Økonomisk bærekraftige medlemstjenester",
        "Felles presse- og medietrening",
    ]
    branding, member_services, media = first
    assert branding[1:3] == ("in_progress", "workshop")
    assert len(branding[3]) == 5 and [p for p in branding[3] if p[1]] == [
        ("Nordland Maritime Næringer", True)
    ]
    assert member_services[1] == "planned"
    assert member_services[4] == ["services", "member_satisfaction"]
    assert media[1] == "done" and media[4] == ["media_recognition"]
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    assert joint_actions() == first  # idempotent
    with app.test_request_context(), unscoped():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == "nordland"))
        with tenant_scope(tenant.id):
            action = db.session.scalar(
                select(JointAction).where(JointAction.title == "Felles presse- og medietrening")
            )
            (row,) = effects.for_action(action)
            assert row.effect.reason == "ok"
            assert row.effect.worked.change > 0 > row.effect.others.change
            part = next(a for a in db.session.scalars(select(JointAction)) if a.parts)
            assert any(p.solo_money for p in part.parts)
    client = app.test_client()
    client.post(
        "/login", data={"email": "coordinator@nordland.example", "password": "cluster-forum-demo"}
    )
    page = client.get(f"/nordland/joint/actions/{action.id}").get_data(as_text=True)
    with app.test_request_context(), force_locale("nb"):  # the demo region speaks Norwegian
        counts = gettext(
            "%(participants)s, %(others)s with a round before and after.",
            participants=ngettext("%(num)d participant", "%(num)d participants", 3),
            others=ngettext("%(num)d other cluster", "%(num)d other clusters", 3),
        )
    assert "<svg" in page and counts in page


def test_the_plugins_work_is_kept_through_an_actions_write_and_renewed_by_a_joint_write(app, forum):
    """``plugin_work`` keeps the plugins' answers per process until the region scope
    changes: a plan action's write (a listed table) keeps them, a joint write (a plugin's
    table, so ``region``) renews them, in the next request as in another worker."""
    from portal.improvement.work import plugin_work
    from portal.plans import services as plans
    from portal.plans.models import Plan
    from portal.tenancy.models import Tenant

    world, process, ids = forum
    keys = [("esca-gold", "2013", "communication")]
    with app.test_request_context(), tenant_scope(world["a"].id):
        action_id = _action(process, ids, status="in_progress").id
        db.session.commit()

    def read(expect_queries=None):
        with app.test_request_context(), tenant_scope(world["a"].id):
            tenant = db.session.get(Tenant, world["a"].id)
            with count_queries(app, cold=False) as queries:
                found = plugin_work(tenant, keys)
            if expect_queries is not None:
                assert len(queries) == expect_queries, queries
            return found

    first = read()
    assert [(w.id, sorted(w.clusters)) for w in first] == [(action_id, [ids["c1"], ids["c2"]])]
    assert read(expect_queries=1) == first  # the region's version only
    with app.test_request_context(), tenant_scope(world["a"].id):
        plan = db.session.get(Plan, process.plan_id)
        plans.create_action(None, plan, {"title": "Member survey"})
        db.session.commit()
    assert read(expect_queries=1) == first  # kept through an action's write
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = db.session.get(JointAction, action_id)
        services.join(None, action, db.session.get(Cluster, ids["c3"]))
        db.session.commit()
    renewed = read()
    assert [(w.id, sorted(w.clusters)) for w in renewed] == [
        (action_id, sorted([ids["c1"], ids["c2"], ids["c3"]]))
    ]
