"""Check first, then confirm, for the plugins' imports (reference portfolios, joint actions):
the same tests as the core's imports (tests/test_imports.py), run with these kinds."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.conftest import login
from tests.import_support import check, check_and_confirm, confirm, token_of
from tests.test_imports import (  # noqa: F401 (collected here with this module's kinds)
    _count,
    test_a_change_of_the_data_after_the_check_is_not_written_blindly,
    test_an_expired_check_cannot_be_confirmed,
    test_only_the_uploader_in_the_region_and_the_target_can_confirm,
    test_problems_are_translated_and_keep_nothing,
    test_the_check_writes_nothing_and_the_confirm_writes_the_preview,
)

pytest.importorskip("portal_compare")
pytest.importorskip("portal_joint")

SET = "esca-gold:2013"


def _references(app, world, factory):
    from portal_compare.models import ReferenceIndicator

    for plugin in ("esca", "compare"):
        factory.enable_plugin(world["a"], plugin)
    url = "/nordland/compare/references/import"
    name = "Danske klynger 2016 (3) – Å"

    def taken_meanwhile():
        from portal_compare import reference_import
        from portal_compare.models import ReferencePortfolio

        with app.test_request_context(), tenant_scope(world["a"].id):
            indicator_set = reference_import.find_indicator_set("esca-gold", "2013")
            db.session.add(
                ReferencePortfolio(
                    tenant_id=world["a"].id,
                    name=name,
                    indicator_set=indicator_set.id,
                    set_version=indicator_set.version,
                    source="aggregates",
                    cluster_count=3,
                )
            )
            db.session.commit()
        return 0  # a portfolio without indicators

    return SimpleNamespace(
        url=url,
        confirm_url=url + "/confirm",
        user="coord@a.example",
        same_rights="coord2@a.example",
        good=(
            b"cluster;indicator;value\nDK-01;engagement;4\nDK-02;engagement;2\n"
            b"DK-03;engagement;3,5\nDK-01;concentration;1\n"
        ),
        bad=b"cluster,indicator,value\nDK-01,engagement,9\n",
        count=lambda: _count(app, ReferenceIndicator),
        rows=2,  # two indicators
        fields={"name": name, "kind": "clusters", "indicator_set": SET},
        elsewhere=None,
        foreign=lambda _cluster: "/bravo/compare/references/import/confirm",
        change=taken_meanwhile,
        setup_foreign=lambda: [
            factory.enable_plugin(world["b"], plugin) for plugin in ("esca", "compare")
        ],
    )


def _programme(app, world, name, clusters=("c1", "c2")) -> int:
    from portal.clusters.models import Cluster
    from portal.programmes import services as programmes

    with app.test_request_context(), tenant_scope(world["a"].id):
        programme = programmes.create_programme(
            None,
            {"name": name, "start_date": date(2025, 1, 1), "end_date": date(2027, 12, 31)},
            world["a"].id,
        )
        for key in clusters:
            cluster = db.session.get(Cluster, world[key].id)
            programmes.add_participant(None, programme, cluster, "Together")
        return programme.id


def _joint_action(app, world, programme_id, data, clusters=()) -> int:
    from portal_joint import services

    from portal.programmes.models import Programme

    with app.test_request_context(), tenant_scope(world["a"].id):
        programme = db.session.get(Programme, programme_id)
        action = services.create_action(None, programme, data, clusters=clusters)
        for part in action.parts:
            part.joined_on = date(2025, 1, 6)
        db.session.commit()
        return action.id


def _joint(app, world, factory):
    from portal_joint.models import JointAction

    factory.enable_plugin(world["a"], "joint")
    programme_id = _programme(app, world, "Forum 2025")
    other = _programme(app, world, "Other programme")
    action_id = _joint_action(app, world, programme_id, {"title": "Old title"}, [world["c1"].id])
    url = f"/nordland/joint/import?programme={programme_id}"

    def rename():
        with app.test_request_context(), tenant_scope(world["a"].id):
            db.session.get(JointAction, action_id).title = "Renamed meanwhile"
            db.session.commit()
        return 0

    header = "action_id,title,status,cluster,joined_on,part_status,tasks\n"
    return SimpleNamespace(
        url=url,
        confirm_url=f"/nordland/joint/import/confirm?programme={programme_id}",
        user="coord@a.example",
        same_rights="coord2@a.example",
        good=(
            header + f"{action_id},Ny tittel,planned,Arctic Minerals,2025-01-06,in_progress,\n"
            ",Brand new – Å,proposed,Helgeland Health,2025-02-01,not_started,Oppgåver 日本\n"
        ).encode(),
        bad=b"title,status\nA,zzz\n",
        count=lambda: _count(app, JointAction, programme_id=programme_id),
        rows=1,  # one new joint action (and one renamed)
        fields={},
        elsewhere=f"/nordland/joint/import/confirm?programme={other}",
        foreign=lambda _cluster: f"/bravo/joint/import/confirm?programme={programme_id}",
        change=rename,
        setup_foreign=lambda: factory.enable_plugin(world["b"], "joint"),
    )


KINDS = {"references": _references, "joint": _joint}


@pytest.fixture(params=sorted(KINDS))
def kind(request, app, world, factory):
    spec = KINDS[request.param](app, world, factory)
    factory.user(spec.same_rights, tenant=world["a"], role="coordinator")
    if getattr(spec, "setup_foreign", None):
        spec.setup_foreign()
    return spec


# --- round trips: a portfolio's export re-imports to the same aggregates ----------------------


def _portfolio_rows(app, name):
    from portal_compare.models import ReferenceIndicator, ReferencePortfolio

    from portal.tenancy import unscoped

    with app.app_context(), unscoped():
        portfolio = db.session.scalar(
            select(ReferencePortfolio).where(ReferencePortfolio.name == name)
        )
        rows = db.session.scalars(
            select(ReferenceIndicator)
            .where(ReferenceIndicator.portfolio_id == portfolio.id)
            .order_by(ReferenceIndicator.indicator_id)
        )
        return (
            portfolio.id,
            portfolio.source,
            portfolio.cluster_count,
            [
                (
                    r.indicator_id,
                    r.count,
                    r.minimum,
                    r.q1,
                    r.median,
                    r.q3,
                    r.maximum,
                    r.red_share,
                    r.yellow_share,
                    r.green_share,
                )
                for r in rows
            ],
        )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_portfolio_exports_its_aggregates_and_reimports_without_loss(
    app, client, world, factory, fmt
):
    from tests.test_import_round_trips import _table

    for plugin in ("esca", "compare"):
        factory.enable_plugin(world["a"], plugin)
    base = "/nordland/compare/references"
    # single clusters' values: shares of thirds, quartiles between the values, a cluster that
    # has only one indicator (so the portfolio has more clusters than any count but one)
    values = "cluster,indicator,value\nA,engagement,1\nB,engagement,2.5\nC,engagement,5\n"
    values += "A,concentration,0\nB,concentration,4.5\nD,concentration,3\nE,maturity,3.3\n"
    first = "Klynger i Sápmi – 日本 (5)"
    login(client, "coord@a.example")
    written = check_and_confirm(
        client,
        f"{base}/import",
        f"{base}/import/confirm",
        values.encode(),
        name=first,
        kind="clusters",
        indicator_set=SET,
    )
    assert written.status_code == 302, written.get_data(as_text=True)[-3000:]
    first_id, source, clusters, stored = _portfolio_rows(app, first)
    assert (source, clusters) == ("clusters", 5)
    page = client.get(f"{base}/").get_data(as_text=True)
    assert f"{base}/{first_id}/aggregates.{fmt}" in page
    assert "the file is in the aggregates format" in page
    exported = client.get(f"{base}/{first_id}/aggregates.{fmt}")
    assert exported.status_code == 200
    header, rows = _table(app, exported.data)
    assert header[:11] == [
        "indicator",
        "count",
        "min",
        "q1",
        "median",
        "q3",
        "max",
        "red",
        "yellow",
        "green",
        "clusters",
    ]
    assert [r[0] for r in rows] == ["engagement", "concentration", "maturity"]  # the set's order
    # the export re-imports, as aggregates, to the same aggregates and number of clusters
    again = "  Kopi: klynger i Sápmi  "
    checked = check(
        client,
        f"{base}/import",
        exported.data,
        f"export.{fmt}",
        name=again,
        kind="aggregates",
        indicator_set=SET,
    )
    assert checked.status_code == 200, checked.get_data(as_text=True)[-3000:]
    assert "Nothing is written yet" in checked.get_data(as_text=True)
    assert confirm(client, f"{base}/import/confirm", token_of(checked)).status_code == 302
    copy_id, source, copy_clusters, copied = _portfolio_rows(app, again.strip())
    assert (source, copy_clusters, copied) == ("aggregates", clusters, stored)
    copy = client.get(f"{base}/{copy_id}/aggregates.{fmt}")
    if fmt == "csv":
        assert copy.data == exported.data
    assert _table(app, copy.data) == _table(app, exported.data)


def test_the_portfolio_export_is_the_coordinators_and_the_regions_own(app, client, world, factory):
    from portal_compare.models import ReferencePortfolio

    for plugin in ("esca", "compare"):
        factory.enable_plugin(world["a"], plugin)
    with app.test_request_context(), tenant_scope(world["b"].id):
        other = ReferencePortfolio(
            tenant_id=world["b"].id,
            name="Bravo's",
            indicator_set="esca-gold",
            set_version="2013",
            source="aggregates",
            cluster_count=3,
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    login(client, "coord@a.example")
    assert client.get(f"/nordland/compare/references/{other_id}/aggregates.csv").status_code == 404
    client.post("/logout")
    with app.test_request_context(), tenant_scope(world["a"].id):
        own = ReferencePortfolio(
            tenant_id=world["a"].id,
            name="Ours",
            indicator_set="esca-gold",
            set_version="2013",
            source="aggregates",
            cluster_count=3,
        )
        db.session.add(own)
        db.session.commit()
        own_id = own.id
    login(client, "manager@a.example")
    assert client.get(f"/nordland/compare/references/{own_id}/aggregates.csv").status_code == 403


def test_a_set_switched_off_after_the_check_is_not_written(app, client, world, factory):
    from portal_compare.models import ReferencePortfolio

    spec = _references(app, world, factory)
    login(client, spec.user)
    token = token_of(check(client, spec.url, spec.good, **spec.fields))
    factory.enable_plugin(world["a"], "esca", enabled=False)
    response = confirm(client, spec.confirm_url, token)
    assert response.status_code == 422 and "Choose an indicator set." in response.get_data(
        as_text=True
    )
    assert _count(app, ReferencePortfolio) == 0
