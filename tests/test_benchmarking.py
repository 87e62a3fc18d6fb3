"""Indicator sets from plugins, benchmarking rounds, traffic lights and changes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.benchmarking.indicators import IndicatorSet, IndicatorSetError
from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.extensions import db
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import count_queries, login
from tests.locking_support import version_on

ESCA = {"set": "esca-gold", "version": "2013"}


def _set(**indicator):
    base = {
        "id": "x",
        "group": "g",
        "name": {"en": "X"},
        "max": 10,
        "thresholds": {"green": 8, "yellow": 5},
    }
    return IndicatorSet.from_dict(
        {
            "id": "s",
            "version": "1",
            "title": "S",
            "groups": [{"id": "g", "name": "G"}],
            "indicators": [{**base, **indicator}],
        }
    )


def test_lights_and_comparisons_follow_the_direction():
    higher = _set().indicators[0]
    assert [higher.light(v) for v in (9, 8, 7, 5, 4.99)] == [
        "green",
        "green",
        "yellow",
        "yellow",
        "red",
    ]
    assert (
        higher.compare(4, 6) == "improved"
        and higher.compare(6, 4) == "declined"
        and higher.compare(5, 5) == "same"
    )
    lower = _set(direction="lower", thresholds={"green": 2, "yellow": 5}).indicators[0]
    assert [lower.light(v) for v in (1, 2, 3, 5, 6)] == [
        "green",
        "green",
        "yellow",
        "yellow",
        "red",
    ]
    assert lower.compare(6, 4) == "improved"


@pytest.mark.parametrize(
    "bad",
    [
        {"thresholds": {"green": 2, "yellow": 5}},  # out of order for higher-is-better
        {"group": "nope"},
        {"scale": "stars"},
        {"direction": "sideways"},
        {"thresholds": {}},
        {"name": {"nb": "x"}},
    ],
)
def test_invalid_indicator_sets_are_refused_with_a_reason(bad):
    with pytest.raises(IndicatorSetError):
        _set(**bad)


def test_the_esca_set_is_complete_in_every_language(app):
    from portal.benchmarking.services import registry

    with app.app_context():
        plugin, esca = registry()[("esca-gold", "2013")]
    assert plugin == "esca" and len(esca.indicators) == 31 and esca.illustrative_thresholds
    languages = {"en", "nb", "da", "it", "sv", "de"}
    for item in (*esca.indicators, *esca.groups):
        assert set(item.name) >= languages and all(item.name.values()), item.id


@pytest.fixture
def esca(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    return world


def _values(**overrides):
    data = {"held_on": "2025-03-01", "assessor": "ESCA expert"}
    for i, indicator in enumerate(("engagement", "participant_structure", "concentration")):
        data[f"v-{indicator}"] = str(2 + i)
    data.update(overrides)
    return data


def test_manager_enters_a_self_assessment_and_sees_lights(client, esca, app):
    login(client, "manager@a.example")
    url = f"/nordland/clusters/{esca['c1'].id}/rounds/new?set=esca-gold&version=2013"
    page = client.get(url).get_data(as_text=True)
    # managers score their own cluster; an expert's benchmarking or audit is not theirs
    assert 'value="self_assessment"' in page and 'value="benchmarking"' not in page
    refused = client.post(url, data=_values(kind="benchmarking"))
    assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True)
    response = client.post(
        url, data=_values(kind="self_assessment", **{"c-engagement": "Member survey 2025"})
    )
    assert response.status_code == 302
    with app.app_context(), unscoped():
        lights = dict(
            db.session.execute(select(IndicatorValue.indicator_id, IndicatorValue.light)).all()
        )
    assert lights == {
        "engagement": "red",
        "participant_structure": "yellow",
        "concentration": "green",
    }
    page = client.get(f"/nordland/clusters/{esca['c1'].id}/rounds").get_data(as_text=True)
    assert (
        "light-green" in page and "Engagement of participants" in page and "0 / 1 / 1" not in page
    )


def test_bad_rounds_are_explained_and_write_nothing(client, esca, app):
    login(client, "coord@a.example")
    url = f"/nordland/clusters/{esca['c1'].id}/rounds/new?set=esca-gold&version=2013"
    future = (date.today() + timedelta(days=3)).isoformat()
    for data, message in [
        (_values(**{"v-engagement": "lots"}), "Enter a number"),
        (_values(**{"v-engagement": "7"}), "Between 0 and 5"),
        (_values(**{"v-engagement": "nan"}), "Enter a number"),
        ({"held_on": "2025-03-01"}, "at least one value"),
        (_values(held_on=future), "future"),
        (_values(held_on="yesterday"), "Not a valid date"),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), message
    with app.app_context(), unscoped():
        assert db.session.scalar(select(func.count()).select_from(BenchmarkRound)) == 0
    assert client.post(url, data=_values()).status_code == 302
    again = client.post(url, data=_values())
    assert again.status_code == 422 and "exists already" in again.get_data(as_text=True)
    assert (
        client.get(f"/nordland/clusters/{esca['c1'].id}/rounds/new?set=nope&version=1").status_code
        == 404
    )


def test_who_may_enter_rounds(client, esca):
    login(client, "manager@a.example")
    assert (
        client.get(
            f"/nordland/clusters/{esca['c2'].id}/rounds/new?set=esca-gold&version=2013"
        ).status_code
        == 403
    )
    client.post("/logout")
    login(client, "observer@a.example")
    assert client.get(f"/nordland/clusters/{esca['c1'].id}/rounds").status_code == 200
    assert (
        client.post(
            f"/nordland/clusters/{esca['c1'].id}/rounds/new?set=esca-gold&version=2013",
            data=_values(),
        ).status_code
        == 403
    )


def test_an_assessor_enters_an_audit_round_for_any_cluster(client, esca, app):
    login(client, "assessor@a.example")
    for cluster in (esca["c1"], esca["c2"]):
        url = f"/nordland/clusters/{cluster.id}/rounds/new?set=esca-gold&version=2013"
        assert client.post(url, data=_values(kind="audit")).status_code == 302
    with app.app_context(), unscoped():
        rounds = db.session.scalars(select(BenchmarkRound)).all()
        assert [(r.audit, r.entered_role, r.confirmed) for r in rounds] == [
            (True, "assessor", False),  # drafts until the expert confirms them
            (True, "assessor", False),
        ]
    page = client.get(f"/nordland/clusters/{esca['c1'].id}/rounds").get_data(as_text=True)
    assert "audit" in page
    # but takes no part in the joint process: no plans, no workshops
    assert client.post(f"/nordland/clusters/{esca['c1'].id}/edit", data={}).status_code == 403


def test_sets_of_switched_off_plugins_are_not_offered(client, world):
    login(client, "coord@a.example")
    page = client.get(f"/nordland/clusters/{world['c1'].id}/rounds").get_data(as_text=True)
    assert "New round" not in page and "Settings" in page
    assert (
        client.get(
            f"/nordland/clusters/{world['c1'].id}/rounds/new?set=esca-gold&version=2013"
        ).status_code
        == 404
    )


def test_changes_between_two_rounds_and_editing(client, esca, app):
    login(client, "coord@a.example")
    url = f"/nordland/clusters/{esca['c1'].id}/rounds/new?set=esca-gold&version=2013"
    client.post(url, data=_values(held_on="2024-03-01"))
    client.post(
        url, data=_values(held_on="2025-04-01", **{"v-engagement": "4", "v-concentration": "3"})
    )
    with app.app_context(), unscoped():
        old_id, new_id = db.session.scalars(
            select(BenchmarkRound.id).order_by(BenchmarkRound.held_on)
        ).all()
    page = client.get(
        f"/nordland/clusters/{esca['c1'].id}/rounds?old={old_id}&new={new_id}"
    ).get_data(as_text=True)
    assert "1 indicator improved" in page and "1 declined" in page and "same" in page
    url = f"/nordland/rounds/{new_id}/edit"
    edit = client.post(
        url,
        data=_values(held_on="2025-04-01", **{"v-engagement": ""}, version=version_on(client, url)),
    )
    assert edit.status_code == 302
    with app.app_context(), unscoped():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(IndicatorValue)
                .where(IndicatorValue.round_id == new_id)
            )
            == 2
        )
    assert client.post(f"/nordland/rounds/{new_id}/delete").status_code == 302


def test_the_grid_costs_the_same_queries_for_one_round_or_six(client, esca, app):
    login(client, "coord@a.example")
    url = f"/nordland/clusters/{esca['c1'].id}/rounds/new?set=esca-gold&version=2013"
    client.post(url, data=_values(held_on="2020-01-01"))
    page = f"/nordland/clusters/{esca['c1'].id}/rounds"
    client.get(page)
    with count_queries(app) as one:
        client.get(page)
    for year in range(2021, 2026):
        client.post(url, data=_values(held_on=f"{year}-01-01"))
    with count_queries(app) as six:
        client.get(page)
    assert len(one) == len(six)
    cluster_page = f"/nordland/clusters/{esca['c1'].id}"
    assert "6 rounds, the latest on" in client.get(cluster_page).get_data(as_text=True)


# --- kinds, confirmation, corrections -------------------------------------------------------


def _round_of(app, cluster_id):
    with app.app_context(), unscoped():
        return db.session.scalar(
            select(BenchmarkRound).where(BenchmarkRound.cluster_id == cluster_id)
        )


def test_a_coordinator_enters_an_experts_result_naming_the_expert(client, esca, app):
    login(client, "coord@a.example")
    url = f"/nordland/clusters/{esca['c1'].id}/rounds/new?set=esca-gold&version=2013"
    nameless = client.post(url, data=_values(kind="benchmarking", assessor=""))
    assert nameless.status_code == 422
    assert "Name the expert whose result this is" in nameless.get_data(as_text=True)
    assert _round_of(app, esca["c1"].id) is None
    assert client.post(url, data=_values(kind="benchmarking", confirm="1")).status_code == 302
    saved = _round_of(app, esca["c1"].id)
    assert (saved.assessor, saved.entered_role, saved.confirmed) == (
        "ESCA expert",
        "coordinator",
        True,
    )


def test_a_confirmed_round_is_locked_and_an_assessor_corrects_it_with_a_reason(client, esca, app):
    login(client, "assessor@a.example")
    c1 = esca["c1"].id
    url = f"/nordland/clusters/{c1}/rounds/new?set=esca-gold&version=2013"
    assert client.post(url, data=_values(kind="benchmarking")).status_code == 302
    draft = _round_of(app, c1)
    assert draft.assessor == "ESCA expert" and not draft.confirmed
    # a draft changes freely, then the expert confirms it
    edit = f"/nordland/rounds/{draft.id}/edit"
    data = _values(kind="benchmarking", **{"v-engagement": "3"}, version=version_on(client, edit))
    assert client.post(edit, data=data).status_code == 302
    assert client.post(f"/nordland/rounds/{draft.id}/confirm").status_code == 302
    assert _round_of(app, c1).confirmed
    # the coordinator may no longer change it, nor delete it
    client.post("/logout")
    login(client, "coord@a.example")
    locked = client.post(edit, data=_values(kind="benchmarking", **{"v-engagement": "5"}))
    assert locked.status_code == 302 and "/history" in locked.headers["Location"]
    client.post(f"/nordland/rounds/{draft.id}/delete")
    with app.app_context(), unscoped():
        kept = db.session.get(BenchmarkRound, draft.id)
        assert (
            kept is not None and {v.indicator_id: v.value for v in kept.values}["engagement"] == 3
        )
    # the assessor corrects it: a reason is required; the replaced result is kept
    client.post("/logout")
    login(client, "assessor@a.example")
    assert "Why the confirmed result is corrected" in client.get(edit).get_data(as_text=True)
    version = version_on(client, edit)
    no_reason = client.post(
        edit, data=_values(kind="benchmarking", **{"v-engagement": "5"}, version=version)
    )
    assert no_reason.status_code == 422
    fixed = client.post(
        edit,
        data=_values(
            kind="benchmarking",
            reason="Typo in the expert's report",
            **{"v-engagement": "5"},
            version=version,
        ),
    )
    assert fixed.status_code == 302
    corrected = _round_of(app, c1)
    with app.app_context(), unscoped():
        corrected = db.session.get(BenchmarkRound, corrected.id)
        values = {v.indicator_id: v.value for v in corrected.values}
        (correction,) = corrected.corrections
        assert corrected.revision == 2 and values["engagement"] == 5
        assert correction.reason == "Typo in the expert's report"
        assert correction.previous["values"]["engagement"][0] == 3
        assert correction.corrected_by.email == "assessor@a.example"
    history = client.get(f"/nordland/rounds/{corrected.id}/history").get_data(as_text=True)
    assert (
        "Typo in the expert&#39;s report" in history
        and "Revision 1 replaced by revision 2" in history
    )


def test_label_rules_read_confirmed_expert_results_only(app, esca):
    from portal.labels.services import cluster_evidence
    from portal.toolkit import save_round

    with app.test_request_context(), tenant_scope(esca["a"].id):
        from portal.benchmarking.services import find_set
        from portal.clusters.models import Cluster

        cluster = db.session.get(Cluster, esca["c1"].id)
        indicator_set = find_set("esca-gold", "2013")
        values = {i.id: 4.0 for i in indicator_set.indicators}
        today = date.today()
        save_round(
            cluster, indicator_set, today - timedelta(days=3), values, kind="self_assessment"
        )
        save_round(cluster, indicator_set, today - timedelta(days=2), values, confirm=False)
        save_round(cluster, indicator_set, today - timedelta(days=1), values, audit=True)
        rounds = cluster_evidence(cluster.id).rounds
        assert [(r.held_on, r.kind) for r in rounds] == [(today - timedelta(days=1), "audit")]


def test_a_self_assessment_never_blocks_the_experts_result_of_the_same_day(client, esca, app):
    c1 = esca["c1"].id
    url = f"/nordland/clusters/{c1}/rounds/new?set=esca-gold&version=2013"
    login(client, "manager@a.example")
    assert client.post(url, data=_values(kind="self_assessment")).status_code == 302
    again = client.post(url, data=_values(kind="self_assessment"))
    assert again.status_code == 422 and "exists already" in again.get_data(as_text=True)
    client.post("/logout")
    login(client, "assessor@a.example")
    assert client.post(url, data=_values(kind="benchmarking", confirm="1")).status_code == 302
    # the rounds file is the import's: experts' confirmed results only
    exported = client.get("/nordland/rounds/export.csv").get_data(as_text=True)
    assert exported.count("2025-03-01") == 3  # the benchmarking's three values, once
    with app.app_context(), unscoped():
        kinds = sorted(r.kind for r in db.session.scalars(select(BenchmarkRound)))
        assert kinds == ["benchmarking", "self_assessment"]
