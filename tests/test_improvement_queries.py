"""The pages that measure work on indicators run the same SQL at any size: the plan, action,
cluster and programme pages are counted in a small region (one linked action, two rounds per
cluster) and again after it grew (more clusters, rounds, and linked actions in the cluster's
plan and the joint plan); the counts must be equal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import improvement_support as build
from tests.conftest import count_queries, login
from tests.process_support import build_process

INDICATORS = [build.ENGAGEMENT, build.STRATEGY, (*build.SET, "cooperation")]
VIEWERS = ["coord@a.example", "manager@a.example", "observer@a.example"]


@pytest.fixture
def region(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    factory.enable_plugin(world["a"], "joint")  # its joint actions are the region's work too
    process = build_process(app, world, actions=1)
    for cluster in (world["c1"], world["c2"]):
        for day in (build.BEFORE_DAY, build.AFTER_DAY):
            build.add_round(app, world["a"].id, cluster.id, day, {"engagement": 3})
    action_id = build.add_action(
        app, world["a"].id, process.plan_id, [build.ENGAGEMENT], status="done"
    )
    build.add_action(
        app,
        world["a"].id,
        process.joint_id,
        [build.ENGAGEMENT],
        [world["c1"].id, world["c2"].id],
        title="Joint survey",
    )
    return {**world, "process": process, "action_id": action_id}


def _grow(app, factory, region) -> None:
    a = region["a"]
    clusters = [factory.cluster(a, f"Grown {i:02d}") for i in range(8)]
    for n, cluster in enumerate([region["c1"], region["c2"], *clusters]):
        for k, days in enumerate((700, 450, 300, 40)):
            build.add_round(
                app,
                a.id,
                cluster.id,
                build.TODAY - timedelta(days=days),
                {"engagement": (n + k) % 5, "strategy_process": (n * k) % 5, "cooperation": 2},
            )
    process = region["process"]
    for i in range(12):
        build.add_action(
            app,
            a.id,
            process.plan_id,
            INDICATORS[: 1 + i % 3],
            title=f"Grown action {i:02d}",
            status=("done", "in_progress", "planned")[i % 3],
            due_date=build.TODAY + timedelta(days=(i % 4 - 2) * 60),
        )
        build.add_action(
            app,
            a.id,
            process.joint_id,
            INDICATORS[i % 3 :],
            [region["c1"].id, region["c2"].id, clusters[i % 8].id],
            title=f"Grown joint action {i:02d}",
            status="done",
        )


def _pages(region) -> list[str]:
    return [
        f"/nordland/plans/{region['process'].plan_id}",
        f"/nordland/plans/{region['process'].joint_id}",
        f"/nordland/actions/{region['action_id']}",
        f"/nordland/clusters/{region['c1'].id}",
        f"/nordland/programmes/{region['process'].programme_id}",
    ]


def _counts(app, region) -> dict[tuple[str, str], int]:
    counts = {}
    for email in VIEWERS:
        client = app.test_client()
        login(client, email)
        for url in _pages(region):
            # Each page as a process's first: the plugins' kept answers are not counted on.
            app.extensions.pop("portal_plugin_work", None)
            with count_queries(app) as statements:
                response = client.get(url)
            assert response.status_code == 200, (email, url)
            counts[(email, url)] = len(statements)
    return counts


def test_the_pages_run_the_same_queries_at_any_size(app, factory, region):
    small = _counts(app, region)
    _grow(app, factory, region)
    large = _counts(app, region)
    assert large == small
