"""The label calendar of a cluster and the region's label risks, through the web: who sees
what (the privacy policy decides whether rule reasons and earliest dates are shown), planning
an assessment, the risk list's filters, pages and exports."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from portal.accounts.models import User
from portal.labels.scheme import add_months
from tests.conftest import login
from tests.label_calendar_support import TODAY, build

TOKEN = re.compile(r'(name="csrf_token" value="|"X-CSRFToken": ")[^"]+"')
MISSING = "Two benchmarkings at least 12 months apart"  # an unmet silver rule's title


@pytest.fixture
def cal(app, world, factory):
    return build(app, world, factory)


def _page(client, email, url):
    login(client, email)
    return client.get(url)


@pytest.mark.parametrize(
    ("email", "sees", "plans"),
    [
        ("coord@a.example", True, True),
        ("manager@a.example", True, True),  # manager of this cluster
        ("assessor@a.example", True, False),
        ("manager2@a.example", False, False),  # manager of another cluster
        ("observer@a.example", False, False),
    ],
)
def test_the_calendar_shows_rule_reasons_only_to_those_who_see_the_values(
    client, cal, email, sees, plans
):
    response = _page(client, email, f"/nordland/clusters/{cal.c1}/labels/calendar")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    expiry = format_date(cal.expires, "medium", locale="en_GB")
    assert "Latest renewal date" in body and expiry in body  # labels are public
    assert "Silver plan" in body  # the plan's projected finish is on the timeline
    assert "<svg viewBox" in body and "The timeline as a table" in body
    assert (MISSING in body) is sees
    assert ("Still missing" in body) is sees
    assert ("benchmark values: they are shown to" in body) is not sees
    assert ("Plan an assessment" in body) is plans


def test_another_region_answers_404(client, cal):
    login(client, "coord@b.example")
    assert client.get(f"/bravo/clusters/{cal.c1}/labels/calendar").status_code == 404
    assert client.get(f"/bravo/clusters/{cal.c1}/labels/planned", method="POST").status_code in (
        404,
        405,
    )
    assert client.get("/nordland/labels/risk").status_code in (403, 404)


def test_the_cluster_page_and_the_path_link_to_the_calendar(client, cal):
    login(client, "observer@a.example")
    url = f"/nordland/clusters/{cal.c1}/labels/calendar"
    assert url in client.get(f"/nordland/clusters/{cal.c1}").get_data(as_text=True)
    assert url in client.get(f"/nordland/clusters/{cal.c1}/labels").get_data(as_text=True)
    assert "/nordland/labels/risk" in client.get("/nordland/labels/").get_data(as_text=True)


def _plan(client, cluster_id, day, **extra):
    data = {"scheme": "esca", "kind": "benchmarking", "planned_on": day.isoformat(), "level": ""}
    return client.post(f"/nordland/clusters/{cluster_id}/labels/planned", data=data | extra)


def _risks(client, query=""):
    """The risk page, without its CSRF tokens (each answer signs them anew, by the second):
    two answers compare equal when they say the same."""
    body = client.get(f"/nordland/labels/risk{query}").get_data(as_text=True)
    return TOKEN.sub("", body)


def test_planning_a_renewal_in_time_takes_the_label_off_the_risk_list(client, cal):
    login(client, "manager@a.example")
    assert "Lapses with no renewal planned" in _risks(client, "?kind=no_renewal")
    late = _plan(client, cal.c1, cal.expires + timedelta(days=1))
    assert late.status_code == 302
    page = client.get(late.headers["Location"]).get_data(as_text=True)
    assert "too late" in page and "after the latest renewal date" in page
    assert "is too late to renew it" in _risks(client, "?kind=no_renewal")
    assert _plan(client, cal.c1, cal.expires, level="bronze").status_code == 302
    assert "Arctic Minerals" not in _risks(client, "?kind=no_renewal")
    assert "No label risk matches these filters." in _risks(client, "?kind=no_renewal")


@pytest.mark.parametrize(
    "email", ["manager2@a.example", "observer@a.example", "assessor@a.example"]
)
def test_only_the_clusters_managers_and_coordinators_plan(client, cal, email):
    login(client, email)
    assert _plan(client, cal.c1, TODAY).status_code == 403


def test_a_planned_assessment_is_checked_edited_and_removed(app, client, cal):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.labels.models import PlannedAssessment
    from portal.tenancy import unscoped

    login(client, "coord@a.example")
    refused = _plan(client, cal.c1, TODAY, scheme="nope", level="gold")
    assert refused.status_code == 422
    assert _plan(client, cal.c1, TODAY, kind="audit", notes="Two experts").status_code == 302
    with app.app_context(), unscoped():
        planned = db.session.scalar(select(PlannedAssessment))
        assert (planned.kind, planned.notes, planned.planned_on) == ("audit", "Two experts", TODAY)
    url = f"/nordland/clusters/{cal.c1}/labels/planned/{planned.id}"
    assert (
        client.get(f"/nordland/clusters/{cal.c2}/labels/planned/{planned.id}/edit").status_code
        == 404
    )
    form = client.get(f"{url}/edit").get_data(as_text=True)
    assert 'name="version"' in form and "Two experts" in form
    assert client.post(f"{url}/delete").status_code == 302
    with app.app_context(), unscoped():
        assert db.session.scalar(select(PlannedAssessment)) is None


def test_the_risk_list_by_role_filters_and_pages(client, cal):
    login(client, "coord@a.example")
    body = _risks(client)
    assert "Arctic Minerals" in body and "Helgeland Health" in body
    assert "Can apply now" in body and "Plan finishes after the latest renewal date" in body
    assert "Helgeland Health" not in _risks(client, "?kind=no_renewal")
    assert "Arctic Minerals" not in _risks(client, "?kind=can_apply")
    first = _risks(client, "?per_page=1")
    assert "Page 1 of 3" in first and 'rel="next"' in first
    assert "Page 3 of 3" in _risks(client, "?per_page=1&page=3")
    assert "No label risk matches" in _risks(client, "?scheme=arena")


@pytest.mark.parametrize(
    ("email", "shown", "hidden"),
    [
        ("observer@a.example", [], 2),
        ("member@a.example", ["Helgeland Health"], 1),
        ("manager@a.example", ["Arctic Minerals"], 1),
        ("assessor@a.example", ["Arctic Minerals", "Helgeland Health"], 0),
    ],
)
def test_the_risk_list_shows_the_clusters_the_policy_lets_one_see(
    client, cal, email, shown, hidden
):
    login(client, email)
    body = _risks(client)
    for name in ("Arctic Minerals", "Helgeland Health"):
        assert (f">{name}</a>" in body) is (name in shown)
    assert (f"{hidden} cluster" in body) is bool(hidden)
    if not shown:
        assert "No label risks" in body


def test_an_observer_sees_a_cluster_that_shared_its_report(app, client, cal):
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.privacy import services as privacy
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(cal.tenant):
        privacy.share_with_observers(None, db.session.get(Cluster, cal.c2), True)
    login(client, "observer@a.example")
    body = _risks(client)
    assert ">Helgeland Health</a>" in body and ">Arctic Minerals</a>" not in body


def test_the_risk_exports(app, client, cal):
    from openpyxl import load_workbook

    login(client, "coord@a.example")
    csv = client.get("/nordland/labels/risk.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    lines = csv.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:6] == ["cluster", "scheme", "level", "risk", "risk_text", "date"]
    assert len(lines) == 1 + 3
    assert any(line.startswith("Arctic Minerals,") and ",no_renewal," in line for line in lines)
    assert lines[1].startswith("Helgeland Health,") and ",can_apply," in lines[1]  # soonest
    assert f",{cal.expires.isoformat()}," in lines[2]
    only = client.get("/nordland/labels/risk.csv?kind=can_apply").get_data().decode("utf-8-sig")
    assert len(only.splitlines()) == 2 and "Helgeland Health" in only
    xlsx = client.get("/nordland/labels/risk.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    rows = list(sheet.values)
    assert rows[0][0] == "cluster" and len(rows) == 4
    observer = app.test_client()
    login(observer, "observer@a.example")
    hidden = observer.get("/nordland/labels/risk.csv").get_data().decode("utf-8-sig")
    assert len(hidden.splitlines()) == 1  # the header only: no cluster's values


# --- the rules' verdicts, kept by the process ------------------------------------------------


def test_the_verdicts_are_kept_through_an_actions_write_and_renewed_by_an_award(
    app, client, cal, monkeypatch
):
    """Checking the rules for every cluster is the risk page's costly part: its verdicts are
    kept until the region's evidence changes (rounds, labels, documented evidence), and what
    the page shows is what an uncached render shows after either kind of write."""
    import portal.labels.calendar_data as calendar_data
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.labels.services import award, current_schemes
    from portal.plans import services as plans
    from portal.plans.models import Plan
    from portal.tenancy import tenant_scope
    from tests.conftest import forget_kept

    calls = []
    real = calendar_data.evaluate_scheme
    monkeypatch.setattr(calendar_data, "evaluate_scheme", lambda *a: calls.append(1) or real(*a))

    def uncached():
        forget_kept(app)
        return _risks(client, "?kind=can_apply")

    login(client, "coord@a.example")
    first = _risks(client, "?kind=can_apply")
    assert "Helgeland Health" in first and "Can apply now" in first
    worked = len(calls)
    assert worked
    with app.test_request_context(), tenant_scope(cal.tenant):
        plans.create_action(None, db.session.get(Plan, cal.plan_id), {"title": "Survey again"})
    kept = _risks(client, "?kind=can_apply")
    assert len(calls) == worked  # an action's write: the verdicts kept
    assert kept == first == uncached()
    with app.test_request_context(), tenant_scope(cal.tenant):
        scheme = next(s for s in current_schemes(cal.tenant) if s.id == "esca")
        award(None, db.session.get(Cluster, cal.c2), scheme, "bronze", TODAY)
    calls.clear()
    renewed = _risks(client, "?kind=can_apply")
    assert calls  # an award: worked out again
    assert "No label risk matches these filters." in renewed  # bronze held: none to apply
    assert renewed == uncached()


def test_the_risk_lines_are_kept_through_progress_and_renewed_by_the_plans_work(
    app, client, cal, monkeypatch
):
    """The risk list is kept while the labels, evidence and the plans' work stay as they
    were: an action's progress or a comment leaves it; a new due day of an open action (the
    plan's projected finish) or its completion renews it. Each answer equals an uncached one."""
    import portal.labels.calendar_data as calendar_data
    from portal.extensions import db
    from portal.plans import services as plans
    from portal.plans.models import Action
    from portal.tenancy import tenant_scope
    from tests.conftest import forget_kept

    calls = []
    real = calendar_data._risk_lines
    monkeypatch.setattr(calendar_data, "_risk_lines", lambda *a: calls.append(1) or real(*a))

    def uncached():
        forget_kept(app)
        return _risks(client)

    def change(**data):
        with app.test_request_context(), tenant_scope(cal.tenant):
            action = db.session.scalar(select(Action).where(Action.plan_id == cal.plan_id))
            plans.update_action(None, action, data)
            return action

    login(client, "coord@a.example")
    first = _risks(client)
    finish = format_date(add_months(TODAY, 14), "medium", locale="en_GB")
    assert "Plan finishes after the latest renewal date" in first and finish in first
    assert len(calls) == 1
    action = change(progress=60)
    with app.test_request_context(), tenant_scope(cal.tenant):
        user = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        plans.add_comment(user, db.session.get(Action, action.id), "Halfway.", [])
    assert _risks(client) == first and len(calls) == 1  # kept
    assert first == uncached()

    calls.clear()
    change(due_date=add_months(TODAY, 15))
    moved = _risks(client)
    assert len(calls) == 1  # worked out again
    assert format_date(add_months(TODAY, 15), "medium", locale="en_GB") in moved
    assert moved == uncached()
    calls.clear()
    change(status="done")
    done = _risks(client)
    assert len(calls) == 1
    assert format_date(add_months(TODAY, 15), "medium", locale="en_GB") not in done
    assert done == uncached()
