"""The programme page stays the same size and runs the same queries however big the programme:
participants in pages, a separate page to add clusters, a bounded timeline and joint panel."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.plans.models import Action, Plan, PlanKind
from portal.programmes.models import Milestone, MilestoneKind, Programme, ProgrammeCluster
from portal.tenancy import tenant_scope, unscoped
from portal.workshops.models import Workshop
from tests.conftest import count_queries, login
from tests.locking_support import version_in
from tests.process_support import build_process

TODAY = date.today()


@pytest.fixture
def process(app, world, factory):
    factory.enable_plugin(world["a"], "joint")
    return build_process(app, world)


def _grow(app, tenant_id: int, programme_id: int, clusters: int, start: int = 0) -> None:
    """More participating clusters (each with its own plan and actions), clusters that do not
    take part, workshops, milestones, joint plans and joint actions."""
    from portal_joint.models import JointAction, JointStatus, Participation

    with app.test_request_context(), tenant_scope(tenant_id):
        programme = db.session.get(Programme, programme_id)
        new = []
        for i in range(start, start + clusters):
            cluster = Cluster(tenant_id=tenant_id, name=f"Grown {i:03d}", sector="Food")
            outsider = Cluster(tenant_id=tenant_id, name=f"Outside {i:03d}", sector="Sea")
            db.session.add_all([cluster, outsider])
            db.session.flush()
            new.append(cluster)
            db.session.add(
                ProgrammeCluster(
                    tenant_id=tenant_id, programme_id=programme_id, cluster_id=cluster.id
                )
            )
            plan = Plan(
                tenant_id=tenant_id,
                kind=PlanKind.INDIVIDUAL,
                programme_id=programme_id,
                cluster_id=cluster.id,
                title=f"Own plan {i}",
                start_date=programme.start_date,
                end_date=programme.end_date,
            )
            db.session.add(plan)
            db.session.flush()
            db.session.add_all(
                Action(
                    tenant_id=tenant_id,
                    plan_id=plan.id,
                    title=f"Grown action {i}-{j}",
                    due_date=TODAY + timedelta(days=j - 3),
                    progress=10 * j,
                )
                for j in range(6)
            )
            db.session.add(
                Plan(
                    tenant_id=tenant_id,
                    kind=PlanKind.JOINT,
                    programme_id=programme_id,
                    title=f"Joint plan {i:03d}",
                    start_date=programme.start_date,
                    end_date=programme.end_date,
                )
            )
            db.session.add(
                Workshop(
                    tenant_id=tenant_id,
                    programme_id=programme_id,
                    title=f"Workshop {i}",
                    day=TODAY + timedelta(days=7 * (i - clusters // 2)),
                    start_time=time(9),
                    end_time=time(12),
                )
            )
            db.session.add(
                Milestone(
                    tenant_id=tenant_id,
                    programme_id=programme_id,
                    title=f"Milestone {i}",
                    kind=MilestoneKind.OTHER,
                    due_date=TODAY + timedelta(days=10 * (i - clusters // 2)),
                )
            )
            action = JointAction(
                tenant_id=tenant_id,
                programme_id=programme_id,
                title=f"Joint action {i}",
                status=JointStatus.IN_PROGRESS,
                due_date=TODAY + timedelta(days=i - 5),
            )
            db.session.add(action)
            db.session.flush()
            db.session.add_all(
                Participation(
                    tenant_id=tenant_id,
                    action_id=action.id,
                    cluster_id=c.id,
                    joined_on=TODAY,
                    progress=30,
                )
                for c in new[-5:]
            )
        db.session.commit()


def _count(app, client, url: str) -> int:
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def test_the_programme_page_runs_the_same_queries_at_any_size(app, client, world, process):
    login(client, "coord@a.example")
    base = f"/nordland/programmes/{process.programme_id}"
    urls = [base, base + "?page=2", base + "?q=arctic", base + "/participants/add"]
    client.get(base)  # warm caches of the first request
    small = {url: _count(app, client, url) for url in urls}
    _grow(app, world["a"].id, process.programme_id, clusters=60)
    large = {url: _count(app, client, url) for url in urls}
    assert large == small
    page = client.get(base).get_data(as_text=True)
    # Bounded: 25 participants, 10 joint plans, the 12 workshops nearest to today.
    assert page.count('<th scope="row"><a href="/nordland/clusters/') == 25
    _grow(app, world["a"].id, process.programme_id, clusters=60, start=60)
    assert {url: _count(app, client, url) for url in urls} == small
    assert abs(len(client.get(base).data) - len(page)) < 1_000  # twice the data, same size
    assert "The timeline shows the 12 workshops nearest to today, of 60." in page
    assert "The timeline shows the 24 milestones nearest to today, of 60." in page
    assert "51 more joint plans." in page
    assert "61 own plans of the clusters" in page
    assert "Joint progress" in page


def test_participants_come_in_pages_and_can_be_searched(app, client, world, process):
    _grow(app, world["a"].id, process.programme_id, clusters=30)
    login(client, "observer@a.example")
    base = f"/nordland/programmes/{process.programme_id}"
    first = client.get(base).get_data(as_text=True)
    assert "Showing 1–25 of 32" in first and 'aria-label="Pages of participating clusters"' in first
    assert ">32</span>" in first  # the headline counts all participants
    assert "Arctic Minerals" in first and "Grown 023" in first and "Grown 024" not in first
    second = client.get(base + "?page=2").get_data(as_text=True)
    assert "Showing 26–32 of 32" in second and "Grown 024" in second
    assert "Arctic Minerals" not in second.split('id="participants"')[1]
    for bad in ("abc", "-1", "0", "9999"):
        assert client.get(f"{base}?page={bad}").status_code == 200, bad
    assert "Showing 26–32 of 32" in client.get(base + "?page=9999").get_data(as_text=True)
    found = client.get(base + "?q=grown+01").get_data(as_text=True)
    assert "Showing 1–10 of 10" in found and "Arctic Minerals" not in found.split("Showing")[1]
    none = client.get(base + "?q=nothing-like-this").get_data(as_text=True)
    assert "No participating cluster matches" in none
    # htmx asks for the list alone
    fragment = client.get(
        base + "?page=2", headers={"HX-Request": "true", "HX-Target": "participants"}
    ).get_data(as_text=True)
    assert "<html" not in fragment and "Grown 024" in fragment
    # An observer does not get the "Change" links or the way to add clusters
    assert "/participants/add" not in first and ">Change<span" not in first


def test_a_participants_goal_is_changed_on_its_own_page(app, client, world, process):
    _grow(app, world["a"].id, process.programme_id, clusters=30)
    login(client, "coord@a.example")
    base = f"/nordland/programmes/{process.programme_id}"
    second = client.get(base + "?page=2").get_data(as_text=True)
    link = re.search(r'href="(/nordland/programmes/\d+/participants/(\d+)\?page=2)"', second)
    assert link, "a Change link that keeps the page"
    participant_id = int(link.group(2))
    edit = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert 'name="goal"' in edit and 'name="page" value="2"' in edit
    version = version_in(edit)
    assert version, "the goal's form carries its version"
    saved = client.post(
        f"{base}/participants/{participant_id}/goal",
        data={"goal": "Gold label", "page": "2", "version": version},
    )
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith("?page=2#participants-heading")
    assert "Gold label" in client.get(base + "?page=2").get_data(as_text=True)
    removed = client.post(f"{base}/participants/{participant_id}/delete", data={"page": "2"})
    assert removed.status_code == 302
    with app.app_context(), unscoped():
        assert db.session.get(ProgrammeCluster, participant_id) is None
    # another programme's participant is not found through this one
    assert client.get(f"{base}/participants/987654").status_code == 404
    with app.app_context(), unscoped():
        kept = db.session.scalar(
            select(ProgrammeCluster.id).where(ProgrammeCluster.cluster_id == world["c1"].id)
        )
    assert client.get(f"{base}/participants/{kept}").status_code == 200
    observer = app.test_client()
    login(observer, "observer@a.example")
    assert observer.get(f"{base}/participants/{kept}").status_code == 403


def test_clusters_are_added_from_a_page_with_search_and_pages(app, client, world, process):
    _grow(app, world["a"].id, process.programme_id, clusters=30)
    login(client, "coord@a.example")
    base = f"/nordland/programmes/{process.programme_id}"
    assert "/participants/add" in client.get(base).get_data(as_text=True)
    add = f"{base}/participants/add"
    page = client.get(add).get_data(as_text=True)
    # 30 clusters do not take part; 20 a page; participants are not offered
    assert "Showing 1–20 of 30" in page and 'aria-label="Pages of clusters"' in page
    assert "Outside 000" in page and "Grown 000" not in page and "Arctic Minerals" not in page
    assert '<select id="cluster_id"' not in page and page.count('name="cluster_id"') == 20
    assert "Outside 029" in client.get(add + "?page=2").get_data(as_text=True)
    assert client.get(add + "?page=abc").status_code == 200
    found = client.get(add + "?q=outside+02").get_data(as_text=True)
    assert "Showing 1–10 of 10" in found
    with app.app_context(), unscoped():
        cluster_id = db.session.scalar(select(Cluster.id).where(Cluster.name == "Outside 021"))
    response = client.post(
        add, data={"cluster_id": str(cluster_id), "goal": "Silver", "q": "outside 02"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/participants/add?q=outside+02")
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Outside 021 takes part now." in after and "Showing 1–9 of 9" in after
    with app.app_context(), unscoped():
        goal = db.session.scalar(
            select(ProgrammeCluster.goal).where(ProgrammeCluster.cluster_id == cluster_id)
        )
    assert goal == "Silver"
    # Adding it again: a clear message, nothing added
    again = client.post(add, data={"cluster_id": str(cluster_id)}, follow_redirects=True)
    assert "Outside 021 takes part already." in again.get_data(as_text=True)
    # No cluster, or not a number
    for data in ({}, {"cluster_id": "abc"}):
        response = client.post(add, data=data, follow_redirects=True)
        assert "Choose a cluster." in response.get_data(as_text=True)
    with app.app_context(), unscoped():
        count = db.session.scalar(
            select(func.count())
            .select_from(ProgrammeCluster)
            .where(ProgrammeCluster.programme_id == process.programme_id)
        )
    assert count == 33


def test_another_regions_cluster_cannot_be_added(app, client, world, factory, process):
    foreign = factory.cluster(world["b"], "Bravo Cluster")
    login(client, "coord@a.example")
    base = f"/nordland/programmes/{process.programme_id}"
    for url in (base + "/participants", base + "/participants/add"):
        assert client.post(url, data={"cluster_id": str(foreign.id)}).status_code == 404
        assert client.post(url, data={"cluster_id": "987654"}).status_code == 404
    with app.app_context(), unscoped():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(ProgrammeCluster)
                .where(ProgrammeCluster.cluster_id == foreign.id)
            )
            == 0
        )
    assert "Bravo Cluster" not in client.get(base + "/participants/add").get_data(as_text=True)


def test_only_coordinators_add_clusters(client, process):
    login(client, "manager@a.example")
    add = f"/nordland/programmes/{process.programme_id}/participants/add"
    assert client.get(add).status_code == 403
    assert client.post(add, data={"cluster_id": "1"}).status_code == 403


def test_the_joint_summary_matches_the_boards_progress(app, world, process):
    """Summed up in SQL, the joint progress is the board's (Python's rounding included)."""
    from portal_joint import services
    from portal_joint.models import JointAction, JointStatus, Participation, PartStatus
    from portal_joint.programme_summary import programme_summary
    from portal_joint.rollup import programme_progress

    tenant_id = world["a"].id

    def action(title, status, parts, due=None):
        a = JointAction(
            tenant_id=tenant_id,
            programme_id=process.programme_id,
            title=title,
            status=status,
            due_date=due,
        )
        db.session.add(a)
        db.session.flush()
        for cluster_id, (progress, part_status, left) in zip(
            (world["c1"].id, world["c2"].id), parts, strict=False
        ):
            db.session.add(
                Participation(
                    tenant_id=tenant_id,
                    action_id=a.id,
                    cluster_id=cluster_id,
                    joined_on=TODAY - timedelta(days=9),
                    left_on=TODAY if left else None,
                    progress=progress,
                    status=part_status,
                )
            )

    started, done = PartStatus.IN_PROGRESS, PartStatus.DONE
    cases = [
        [("a", JointStatus.IN_PROGRESS, [(25, started, False), (0, started, False)])],  # 12.5
        [("b", JointStatus.IN_PROGRESS, [(25, started, False), (50, started, False)])],  # 37.5
        [
            ("c", JointStatus.DONE, [(10, started, False)]),
            ("d", JointStatus.CANCELLED, [(90, started, False)]),
            ("e", JointStatus.PLANNED, []),
            ("f", JointStatus.PROPOSED, [(33, done, False), (80, started, True)], -3),
            ("g", JointStatus.IN_PROGRESS, [(1, started, False), (2, started, False)], 4),
        ],
    ]
    with app.test_request_context(), tenant_scope(tenant_id):
        for actions in cases:
            for row in actions:
                title, status, parts, *due = row
                action(title, status, parts, TODAY + timedelta(days=due[0]) if due else None)
            db.session.flush()
            summary = programme_summary(process.programme_id, TODAY)
            board = services.board(process.programme_id)
            assert summary.progress == programme_progress(board), [a.title for a in board]
            assert summary.total == len(board)
            assert sum(summary.by_status.values()) == len(board)
        # build_process made one joint action too; "f" is overdue
        assert summary.by_status["in_progress"] >= 3 and summary.by_status["cancelled"] == 1
        assert summary.overdue == 1
        assert [a.title for a in summary.next_due][:2] == ["f", "g"]
        assert all(
            a.status not in (JointStatus.DONE, JointStatus.CANCELLED) for a in summary.next_due
        )
        db.session.rollback()


def test_the_joint_panel_is_kept_through_action_writes_and_renewed_by_joint_ones(
    app, client, world, process
):
    """The programme page's joint panel reads only the plugin's tables: an action's write in
    the programme renders the page again without reading them, a joint action's write does."""
    from portal_joint.models import JointAction, JointStatus

    login(client, "coord@a.example")
    url = f"/nordland/programmes/{process.programme_id}"

    def add_joint(title):
        with app.test_request_context(), tenant_scope(world["a"].id):
            db.session.add(
                JointAction(
                    tenant_id=world["a"].id,
                    programme_id=process.programme_id,
                    title=title,
                    status=JointStatus.PLANNED,
                    due_date=TODAY + timedelta(days=20),
                )
            )
            db.session.commit()

    add_joint("Shared stand at the fair")
    assert "Shared stand at the fair" in client.get(url).get_data(as_text=True)
    with app.test_request_context(), tenant_scope(world["a"].id):
        db.session.get(Action, process.action_ids[0]).progress = 70
        db.session.commit()
    with count_queries(app, cold=False) as statements:
        again = client.get(url)
    assert again.headers.get("X-Page-Cache") is None  # the action's write renewed the page
    assert "Shared stand at the fair" in again.get_data(as_text=True)
    assert not [s for s in statements if "joint_action" in s], statements

    add_joint("Joint study trip")
    with count_queries(app, cold=False) as statements:
        renewed = client.get(url).get_data(as_text=True)
    assert [s for s in statements if "joint_action" in s]
    assert "Joint study trip" in renewed
