"""The improvement loop on the core's pages: an action aims at indicators (form, services,
the action page), its effect is shown to whoever may see it, and the plan, cluster and
programme pages summarise the indicators worked on.

The region: Arctic Minerals (c1) works on engagement with a member survey; three other
clusters stay out. Values (points 0-5) in the round before the action and the first after:

    Arctic Minerals   2 -> 4   (+2)
    Helgeland Health  2 -> 3
    Ocean Tech        3 -> 4
    Saltfjord Food    4 -> 5   others: mean 3 -> 4 (+1)
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.plans.models import Action, ActionIndicator
from portal.tenancy import tenant_scope
from tests import improvement_support as build
from tests.conftest import login
from tests.process_support import build_process


@pytest.fixture
def region(app, world, factory):
    return build.build_region(app, world, factory)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _effect_table(html: str) -> list[list[str]]:
    """The rows of the first effect table: [group, clusters, before, after, change]."""
    table = re.search(
        r'<div class="table-scroll"><table> <caption class="visually-hidden">'
        r"Effect on .*?</table>",
        html,
    )
    assert table, "no effect table"
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", table.group(0))
    return [[name, *re.findall(r'<td class="num">(.*?)</td>', cells)] for name, cells in rows]


def test_the_coordinator_sees_the_effect_with_exact_numbers(app, client, region):
    login(client, "coord@a.example")
    page = client.get(f"/nordland/actions/{region['action_id']}")
    assert page.status_code == 200
    html = _text(page)
    assert "Indicators it aims to improve" in html
    assert "Engagement" in html or "engagement" in html.lower()
    assert _effect_table(html) == [
        ["Arctic Minerals", "1", "2", "4", "+2"],
        ["Other clusters", "3", "3", "4", "+1"],
    ]
    assert "Improved" in html
    assert "<svg" in html
    # The windows and the group sizes, said in words.
    assert "1 responsible cluster, 3 other clusters with a confirmed round before and after" in html


def test_the_clusters_manager_sees_its_values_and_the_others_only_with_enough(app, client, region):
    login(client, "manager@a.example")
    html = _text(client.get(f"/nordland/actions/{region['action_id']}"))
    assert _effect_table(html)[0] == ["Arctic Minerals", "1", "2", "4", "+2"]
    assert _effect_table(html)[1] == ["Other clusters", "3", "3", "4", "+1"]
    build.set_min_group(app, region["a"].id, 4)  # three others are too few now
    html = _text(client.get(f"/nordland/actions/{region['action_id']}"))
    assert _effect_table(html) == [
        ["Arctic Minerals", "1", "2", "4", "+2"],
        ["Other clusters", "3", "–", "–", "–"],
    ]
    assert "Too few other clusters to compare with: at least 4" in html


@pytest.mark.parametrize("email", ["observer@a.example", "other@a.example"])
def test_an_outsider_never_sees_the_clusters_values(app, client, region, email):
    login(client, email)
    page = client.get(f"/nordland/actions/{region['action_id']}")
    assert page.status_code == 200
    html = _text(page)
    # Not even whether the cluster had rounds before and after (when it was assessed).
    assert "responsible cluster" not in html and "No data yet" not in html
    assert "The cluster's own values are seen by its own people" in html
    assert "Effect on" not in html and "<svg" not in html
    assert "Improved" not in html and "Declined" not in html


def test_an_action_not_over_says_so(app, client, region):
    action_id = build.add_action(
        app,
        region["a"].id,
        region["process"].plan_id,
        [build.ENGAGEMENT],
        title="Still running",
        due_date=build.TODAY + build.timedelta(days=30),
    )
    login(client, "coord@a.example")
    html = _text(client.get(f"/nordland/actions/{action_id}"))
    assert "Not over yet" in html


def test_another_regions_action_is_404(app, client, region, factory):
    b_cluster = factory.cluster(region["b"], "Bravo Cluster")
    factory.user("coord@b.example", tenant=region["b"], role="coordinator")
    login(client, "coord@b.example")
    assert client.get(f"/bravo/actions/{region['action_id']}").status_code == 404
    assert client.get(f"/bravo/plans/{region['process'].plan_id}").status_code == 404
    assert b_cluster.id  # the other region has its own cluster


# --- the form ---------------------------------------------------------------------------


def _links(app, tenant_id, action_id) -> list[tuple[str, str, str]]:
    with app.app_context(), tenant_scope(tenant_id):
        return [
            link.key
            for link in db.session.scalars(
                select(ActionIndicator)
                .where(ActionIndicator.action_id == action_id)
                .order_by(ActionIndicator.id)
            )
        ]


FORM = {"status": "planned", "priority": "normal", "progress": "0", "weight": "1"}


def test_the_form_offers_the_indicators_grouped_and_saves_them(app, client, region):
    plan_id = region["process"].plan_id
    login(client, "manager@a.example")
    html = _text(client.get(f"/nordland/plans/{plan_id}/actions/new"))
    assert 'class="indicator-picker"' in html
    assert 'name="indicators" value="esca-gold/2013/engagement"' in html
    assert "<legend>Structure" in html  # a group of the set
    saved = client.post(
        f"/nordland/plans/{plan_id}/actions/new",
        data={
            **FORM,
            "title": "Strategy day",
            "indicators": ["esca-gold/2013/strategy_process", "esca-gold/2013/engagement"],
            "planned_hours": "12,5",
            "planned_money": "15000",
            "spent_money": "",
        },
    )
    assert saved.status_code == 302, _text(saved)[:2000]
    action_id = int(saved.headers["Location"].rsplit("/", 1)[1])
    assert _links(app, region["a"].id, action_id) == [build.STRATEGY, build.ENGAGEMENT]
    with app.app_context(), tenant_scope(region["a"].id):
        action = db.session.get(Action, action_id)
        assert (str(action.planned_hours), str(action.planned_money)) == ("12.5", "15000.00")
        assert action.spent_money is None
    page = _text(client.get(f"/nordland/actions/{action_id}"))
    assert "12.5 planned" in page and "15,000.00 planned" in page

    # Editing: the boxes come checked; unchecking one unlinks it, the change is recorded.
    edit = client.get(f"/nordland/actions/{action_id}/edit").get_data(as_text=True)
    assert re.search(r'value="esca-gold/2013/engagement" checked', edit)
    version = re.search(r'name="version"[^>]*value="(\d+)"', edit).group(1)
    saved = client.post(
        f"/nordland/actions/{action_id}/edit",
        data={
            **FORM,
            "title": "Strategy day",
            "indicators": ["esca-gold/2013/engagement"],
            "version": version,
        },
    )
    assert saved.status_code == 302
    assert _links(app, region["a"].id, action_id) == [build.ENGAGEMENT]


def test_an_unknown_indicator_is_refused_and_nothing_is_saved(app, client, region):
    plan_id = region["process"].plan_id
    login(client, "manager@a.example")
    with app.app_context(), tenant_scope(region["a"].id):
        before = db.session.query(Action).count()
    refused = client.post(
        f"/nordland/plans/{plan_id}/actions/new",
        data={**FORM, "title": "Ghost", "indicators": ["esca-gold/2013/no-such-thing"]},
    )
    assert refused.status_code == 422
    assert "is not an indicator of this region" in _text(refused)
    malformed = client.post(
        f"/nordland/plans/{plan_id}/actions/new",
        data={**FORM, "title": "Ghost", "indicators": ["engagement"]},
    )
    assert malformed.status_code == 422
    assert "does not name an indicator" in _text(malformed)
    bad_money = client.post(
        f"/nordland/plans/{plan_id}/actions/new",
        data={**FORM, "title": "Ghost", "spent_money": "-3"},
    )
    assert bad_money.status_code == 422
    assert "Give a number from 0, or leave it empty." in _text(bad_money)
    with app.app_context(), tenant_scope(region["a"].id):
        assert db.session.query(Action).count() == before

    # In the user's language.
    client.post("/language", data={"locale": "nb"})
    refused = client.post(
        f"/nordland/plans/{plan_id}/actions/new",
        data={**FORM, "title": "Ghost", "indicators": ["esca-gold/2013/no-such-thing"]},
    )
    assert refused.status_code == 422
    assert "is not an indicator of this region" not in _text(refused)


def test_a_stale_edit_keeps_the_chosen_indicators(app, region):
    action_id = region["action_id"]
    first, second = app.test_client(), app.test_client()
    login(first, "coord@a.example")
    login(second, "coord@a.example")
    page = first.get(f"/nordland/actions/{action_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
    data = {**FORM, "status": "done", "title": "Member survey", "version": version}
    assert (
        first.post(
            f"/nordland/actions/{action_id}/edit",
            data={**data, "indicators": ["esca-gold/2013/strategy_process"]},
        ).status_code
        == 302
    )
    refused = second.post(
        f"/nordland/actions/{action_id}/edit",
        data={**data, "indicators": ["esca-gold/2013/cooperation"]},
    )
    assert refused.status_code == 409
    html = _text(refused)
    assert re.search(r'value="esca-gold/2013/cooperation" checked', html)  # their input
    assert "Indicators</dt><dd>Strategy-building process" in html or "strategy" in html.lower()
    assert _links(app, region["a"].id, action_id) == [build.STRATEGY]


# --- plan, cluster and programme summaries ------------------------------------------------


def _section(html: str, heading_id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html)
    assert found, f"no section {heading_id}"
    return found.group(1)


def test_the_plan_page_lists_its_indicators_values_and_effort(app, client, region):
    plan_id = region["process"].plan_id
    with app.app_context(), tenant_scope(region["a"].id):
        action = db.session.get(Action, region["action_id"])
        action.planned_hours, action.spent_hours = Decimal("10"), Decimal("12.5")
        action.spent_money = Decimal("2500")
        db.session.commit()
    login(client, "manager@a.example")
    html = _text(client.get(f"/nordland/plans/{plan_id}"))
    part = _section(html, "plan-indicators-heading")
    rows = re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td> <td>(.*?)</td>', part)
    assert rows == [("1", "1", " 1 improved ")] or [r[:2] for r in rows] == [("1", "1")]
    assert "1 improved" in part
    assert "Member survey" in part
    # The cluster's values over its rounds, for those who may see them.
    assert "The cluster's values in its confirmed rounds" in part
    values = re.search(r'aria-labelledby="plan-values-heading">(.*?)</table>', part).group(1)
    assert re.findall(r'<td class="num">(.*?)</td>', values) == ["2", "4"]
    # The effort, planned and spent.
    effort = re.search(r'aria-labelledby="plan-effort-heading">(.*?)</table>', part).group(1)
    assert re.findall(r'<td class="num">(.*?)</td>', effort) == [
        "10",
        "12.5",
        "–",
        "€2,500.00",
    ]  # EUR


def test_an_outsider_sees_the_plans_indicators_but_not_the_values(app, client, region):
    login(client, "other@a.example")
    html = _text(client.get(f"/nordland/plans/{region['process'].plan_id}"))
    part = _section(html, "plan-indicators-heading")
    assert "Member survey" in part
    assert "plan-values-heading" not in part
    assert "over its rounds are its own" in part
    assert "1 not shown" in part and "improved" not in part
    # the action's line says it is not shown, not that it was never measured
    assert "Not shown (the cluster's own values)" in part and "Not measured yet" not in part


def test_a_plan_without_links_says_how_to_add_them(app, client, world):
    process = build_process(app, world, actions=1)
    login(client, "coord@a.example")
    html = _text(client.get(f"/nordland/plans/{process.plan_id}"))
    assert "No action of this plan aims at an indicator yet." in html
    assert "No action of this plan records hours or money yet." in html


def test_the_cluster_and_programme_pages_summarise(app, client, region):
    build.add_action(
        app,
        region["a"].id,
        region["process"].joint_id,
        [build.ENGAGEMENT, build.STRATEGY],
        [region["c1"].id, region["c2"].id],
        title="Joint strategy days",
        due_date=build.TODAY + build.timedelta(days=20),
    )
    login(client, "coord@a.example")
    cluster = _text(client.get(f"/nordland/clusters/{region['c1'].id}"))
    part = _section(cluster, "cluster-indicators-heading")
    rows = re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', part)
    assert rows == [("2", "1"), ("1", "0")]  # engagement: the survey and the joint days
    assert "1 improved" in part and "1 not measured yet" in part
    programme = _text(client.get(f"/nordland/programmes/{region['process'].programme_id}"))
    part = _section(programme, "programme-indicators-heading")
    assert re.findall(r'<td class="num">(\d+)</td><td class="num">(\d+)</td>', part) == [
        ("2", "1"),
        ("1", "0"),
    ]
    other = _text(client.get(f"/nordland/clusters/{region['c3'].id}"))
    assert "No action of the cluster aims at an indicator yet." in other


@pytest.mark.parametrize("email", ["observer@a.example", "other@a.example"])
def test_an_outsider_cannot_tell_a_cluster_without_rounds(app, client, region, email):
    """A cluster with no round after the action reads the same to an outsider as one with."""
    action_id = build.add_action(
        app,
        region["a"].id,
        region["process"].plan_id,
        [build.STRATEGY],  # nobody has a value of it
        title="Strategy day",
        status="done",
    )
    login(client, email)
    html = _text(client.get(f"/nordland/actions/{action_id}"))
    assert "No data yet" not in html
    assert "The cluster's own values are seen by its own people" in html
    coordinator = app.test_client()
    login(coordinator, "coord@a.example")
    assert "No data yet" in _text(coordinator.get(f"/nordland/actions/{action_id}"))
