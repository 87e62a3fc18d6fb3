"""The region's front page per role (portal.main.front_page): the right panels for each role,
empty states with links, nothing of another region, nothing the privacy policy hides from an
observer, and the same number of queries at two data sizes."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.benchmarking.models import BenchmarkRound, RoundKind
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import Label
from portal.labels.scheme import add_months
from portal.plans.models import Action, Plan, PlanKind
from portal.programmes.models import Programme
from portal.tenancy import tenant_scope
from portal.workshops.models import Workshop, WorkshopInvite
from tests import label_calendar_support
from tests.conftest import ROLE_EMAILS, count_queries, login
from tests.process_support import build_process
from tests.registration_support import build_registration

TODAY = date.today()
URL = "/nordland/"
PANEL_IDS = {
    "coordinator": (
        "fp-programmes",
        "fp-workshops",
        "fp-overdue",
        "fp-lapsing",
        "fp-waiting",
        "fp-activity",
        "fp-clusters",
    ),
    "cluster_manager": (
        "fp-plans",
        "fp-work",
        "fp-labels",
        "fp-invited",
        "fp-imports",
        "fp-clusters",
    ),
    "member": ("fp-work", "fp-invited", "fp-programmes", "fp-clusters"),
    "observer": ("fp-programmes", "fp-register", "fp-clusters"),
    "assessor": ("fp-rounds", "fp-planned", "fp-lapsing", "fp-imports", "fp-clusters"),
}
ALL_IDS = {i for ids in PANEL_IDS.values() for i in ids}


def _page(app, email: str) -> str:
    client = app.test_client()
    login(client, email)
    response = client.get(URL)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _other_region(app, world) -> None:
    """Bravo's own programme, cluster, workshop and overdue action, with telling names."""
    from portal.plans import services as plans
    from portal.programmes import services as programmes
    from portal.workshops import services as workshops

    b = world["b"].id
    with app.test_request_context(), tenant_scope(b):
        cluster = Cluster(tenant_id=b, name="Bravo Hidden Cluster", sector="Secret")
        db.session.add(cluster)
        db.session.flush()
        programmes.create_programme(
            None,
            {
                "name": "Bravo Hidden Programme",
                "start_date": TODAY - timedelta(days=10),
                "end_date": TODAY + timedelta(days=100),
            },
            b,
        )
        plan = plans.create_plan(
            None,
            {"title": "Bravo plan", "start_date": TODAY, "end_date": TODAY + timedelta(days=90)},
            tenant_id=b,
            cluster=cluster,
        )
        plans.create_action(
            None, plan, {"title": "Bravo overdue", "due_date": TODAY - timedelta(days=3)}
        )
        workshops.create_workshop(
            None,
            {
                "title": "Bravo Hidden Workshop",
                "day": TODAY + timedelta(days=3),
                "start_time": time(9),
                "end_time": time(10),
            },
            b,
        )
        db.session.add(
            Label(
                tenant_id=b,
                cluster_id=cluster.id,
                scheme="esca",
                scheme_version="2013",
                level="bronze",
                awarded_on=TODAY - timedelta(days=300),
                expires_on=TODAY + timedelta(days=30),
                score=77.25,
            )
        )
        db.session.commit()


@pytest.fixture
def region(app, world, factory):
    calendar = label_calendar_support.build(app, world, factory)
    process = build_process(app, world)
    registration = build_registration(app, world)
    with app.test_request_context(), tenant_scope(world["a"].id):
        db.session.add(
            WorkshopInvite(
                tenant_id=world["a"].id,
                workshop_id=registration.workshop_id,
                cluster_id=world["c1"].id,
            )
        )
        # A draft benchmarking of c2 waits for the expert's confirmation.
        db.session.add(
            BenchmarkRound(
                tenant_id=world["a"].id,
                cluster_id=world["c2"].id,
                held_on=TODAY - timedelta(days=5),
                indicator_set="esca-gold",
                set_version="2013",
                kind=RoundKind.BENCHMARKING,
            )
        )
        # c1's bronze lapses within six months with no renewal planned; score is c1's value.
        label = db.session.scalar(select(Label).where(Label.cluster_id == world["c1"].id))
        label.expires_on = TODAY + timedelta(days=40)
        label.score = 61.75
        db.session.commit()
    _other_region(app, world)
    return calendar, process, registration


@pytest.mark.parametrize("role", sorted(PANEL_IDS))
def test_each_role_gets_its_panels(app, world, region, role):
    html = _page(app, ROLE_EMAILS[role])
    for panel in PANEL_IDS[role]:
        assert f'id="{panel}"' in html, (role, panel)
    for panel in ALL_IDS - set(PANEL_IDS[role]):
        assert f'id="{panel}"' not in html, (role, panel)
    # Another region's data never shows.
    assert "Bravo" not in html


def test_coordinator_sees_what_needs_them(app, world, region):
    html = _page(app, "coord@a.example")
    assert "Forum 2026-2028" in html and "<progress" in html  # programme progress with a bar
    assert "Registration workshop" in html and "0 of 5 seats taken" in html.replace(
        "1 of 5", "0 of 5"
    )
    assert "Arctic Minerals" in html  # overdue by cluster, lapsing label
    assert "lapses on" in html
    assert "asks for a seat at Registration workshop" in html  # the manager's request
    assert "to confirm" in html  # the draft round of c2
    assert 'id="fp-activity"' in html and "Created" in html or "created" in html
    assert "/nordland/settings/audit" in html or "/nordland/audit" in html


def test_manager_sees_their_clusters(app, world, region):
    html = _page(app, "manager@a.example")
    assert "Arctic plan" in html and "Silver plan" in html
    assert "Helgeland" not in html.split('id="fp-plans"')[1].split("</section>")[0]
    work = html.split('id="fp-work"')[1].split("</section>")[0]
    assert "overdue since" in work  # Action 000 is due yesterday
    labels = html.split('id="fp-labels"')[1].split("</section>")[0]
    assert "Arctic Minerals" in labels and "renew by" in labels
    invited = html.split('id="fp-invited"')[1].split("</section>")[0]
    assert "Registration workshop" in invited


def test_observer_sees_no_hidden_values(app, world, region):
    html = _page(app, "observer@a.example")
    assert "Forum 2026-2028" in html
    register = html.split('id="fp-register"')[1].split("</section>")[0]
    assert "Arctic Minerals" in register  # labels are public
    # The label's score is c1's own value: not for an observer of a cluster that did not share.
    assert "61.75" not in html and "61,75" not in html
    assert "lapses on" not in html and "renew by" not in html


def test_assessor_sees_rounds_to_confirm(app, world, region):
    html = _page(app, "assessor@a.example")
    rounds = html.split('id="fp-rounds"')[1].split("</section>")[0]
    assert "Helgeland Health" in rounds


@pytest.mark.parametrize("role", sorted(PANEL_IDS))
def test_empty_region_shows_empty_states(app, world, role):
    html = _page(app, ROLE_EMAILS[role])
    # Every panel but the clusters and the activity (making them was activity) says it has
    # nothing.
    quiet = [p for p in PANEL_IDS[role] if p not in ("fp-activity", "fp-clusters")]
    assert html.count('class="empty-state"') >= len(quiet)
    assert "Bravo" not in html


def test_the_page_is_kept_per_user(app, world, region):
    """Two users of different roles never get each other's kept page."""
    coordinator, observer = app.test_client(), app.test_client()
    login(coordinator, "coord@a.example")
    login(observer, "observer@a.example")
    for _ in range(2):
        first = coordinator.get(URL).get_data(as_text=True)
        second = observer.get(URL).get_data(as_text=True)
    assert 'id="fp-waiting"' in first and 'id="fp-waiting"' not in second


# --- query counts at two sizes ----------------------------------------------------------------


def _grow(app, tenant_id: int, n: int, start: int) -> None:
    """n more clusters, each with a programme, a plan with overdue actions, a workshop, a
    label lapsing soon and a draft round."""
    with app.test_request_context(), tenant_scope(tenant_id):
        owner = db.session.scalar(select(User).where(User.email == "manager@a.example"))
        for i in range(start, start + n):
            cluster = Cluster(tenant_id=tenant_id, name=f"Grown {i:04d}", sector="S")
            programme = Programme(
                tenant_id=tenant_id,
                name=f"Programme {i:04d}",
                start_date=TODAY - timedelta(days=5),
                end_date=TODAY + timedelta(days=50 + i),
            )
            db.session.add_all([cluster, programme])
            db.session.flush()
            plan = Plan(
                tenant_id=tenant_id,
                kind=PlanKind.INDIVIDUAL,
                cluster_id=cluster.id,
                programme_id=programme.id,
                title=f"Plan {i:04d}",
                start_date=TODAY - timedelta(days=5),
                end_date=TODAY + timedelta(days=60),
            )
            db.session.add(plan)
            db.session.flush()
            db.session.add_all(
                Action(
                    tenant_id=tenant_id,
                    plan_id=plan.id,
                    title=f"Late {i}-{j}",
                    owner_id=owner.id,
                    due_date=TODAY - timedelta(days=j + 1),
                )
                for j in range(3)
            )
            db.session.add(
                Workshop(
                    tenant_id=tenant_id,
                    programme_id=programme.id,
                    title=f"Workshop {i:04d}",
                    day=TODAY + timedelta(days=1 + i % 30),
                    start_time=time(9),
                    end_time=time(12),
                )
            )
            db.session.add(
                Label(
                    tenant_id=tenant_id,
                    cluster_id=cluster.id,
                    scheme="esca",
                    scheme_version="2013",
                    level="bronze",
                    awarded_on=add_months(TODAY, -20),
                    expires_on=TODAY + timedelta(days=20 + i % 100),
                )
            )
            db.session.add(
                BenchmarkRound(
                    tenant_id=tenant_id,
                    cluster_id=cluster.id,
                    held_on=TODAY - timedelta(days=3),
                    indicator_set="esca-gold",
                    set_version="2013",
                    kind=RoundKind.AUDIT,
                )
            )
        db.session.commit()


def _count(app, client) -> int:
    with count_queries(app) as statements:
        response = client.get(URL)
    assert response.status_code == 200
    return len(statements)


def test_query_counts_do_not_grow_with_the_data(app, world, region):
    clients = {}
    for role, email in ROLE_EMAILS.items():
        clients[role] = app.test_client()
        login(clients[role], email)
        clients[role].get(URL)  # warm what the first request of a process loads
    _grow(app, world["a"].id, 3, 0)
    small = {role: _count(app, client) for role, client in clients.items()}
    _grow(app, world["a"].id, 60, 3)
    large = {role: _count(app, client) for role, client in clients.items()}
    assert small == large
    # Measured: coordinator 27, cluster manager 22, member 14, observer 12, assessor 20 (with
    # the request's own, the header's and the plugins' panels' queries; the label calendar of
    # the region's clusters, read once for the lapsing labels, takes six).
    assert max(small.values()) <= 30, small
