"""Every kind that imports also exports in its import format, and an export re-imports
without loss: export -> check -> confirm -> export again gives the same table, in CSV
(byte for byte) and in XLSX (cell for cell), with non-ASCII text, text a spreadsheet would
take for a formula or a number, and free text with spaces at its edges and line breaks."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete

from portal.extensions import db
from portal.imports.table import read_table
from portal.tenancy import tenant_scope
from tests.conftest import login
from tests.import_support import check, confirm, token_of

TRICKY_NAMES = ["Bodø Næringshage – 日本", "007", "-Tromsø =SUM(A1)", "'Apostrof AS", "Æ@home"]


def _table(app, data: bytes):
    with app.app_context():
        table = read_table(data, max_rows=10_000)
    return table.header, [record for _line, record in table.rows]


def _round_trip(app, client, export_url, import_url, fmt, before_import, export_again_url=None):
    exported = client.get(export_url)
    assert exported.status_code == 200, exported.status_code
    before_import()
    checked = check(client, import_url, exported.data, f"export.{fmt}")
    assert checked.status_code == 200, checked.get_data(as_text=True)[-4000:]
    written = confirm(client, import_url + "/confirm", token_of(checked))
    assert written.status_code == 302, written.get_data(as_text=True)[-4000:]
    again = client.get(export_again_url or export_url)
    if fmt == "csv":
        assert again.data == exported.data
    assert _table(app, again.data) == _table(app, exported.data)
    return exported.data


# --- members ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_members_round_trip(app, client, world, factory, fmt):
    from portal.clusters.models import MemberOrganisation, MemberType

    a, cid = world["a"], world["c1"].id
    with app.test_request_context(), tenant_scope(a.id):
        db.session.add_all(
            MemberOrganisation(
                tenant_id=a.id,
                cluster_id=cid,
                name=name,
                member_type=MemberType.OTHER,
                city="Tromsø – Romsa",
                website="https://example.com/a?b=1&c=ø",
                joined_year=2001 + n,
            )
            for n, name in enumerate(TRICKY_NAMES)
        )
        db.session.commit()
    empty = factory.cluster(a, "Empty cluster")
    login(client, "coord@a.example")
    data = _round_trip(
        app,
        client,
        f"/nordland/clusters/{cid}/members.{fmt}",
        f"/nordland/clusters/{empty.id}/members/import",
        fmt,
        lambda: None,
        export_again_url=f"/nordland/clusters/{empty.id}/members.{fmt}",
    )
    header, rows = _table(app, data)
    assert header == ["name", "member_type", "city", "website", "joined_year"]
    assert {r[0] for r in rows} >= set(TRICKY_NAMES)


# --- rounds ----------------------------------------------------------------------------------


def _rounds(app, tenant_id, cluster_ids):
    from portal.benchmarking import services
    from portal.clusters.models import Cluster

    comments = ["Spørreundersøkelse 日本", "=1+1 is not a formula", "two\nlines", "-3", ""]
    with app.test_request_context(), tenant_scope(tenant_id):
        indicator_set = services.find_set("esca-gold", "2013")
        ids = [i.id for i in indicator_set.indicators[:5]]
        for n, cluster_id in enumerate(cluster_ids):
            cluster = db.session.get(Cluster, cluster_id)
            values = {i: (round((k + n) * 0.7 % 5, 1), comments[k]) for k, i in enumerate(ids)}
            data = {
                "held_on": date.today().replace(day=1).replace(year=date.today().year - 1 - n),
                "assessor": "Åse Ø'Brien",
                "notes": "Notes with æøå\nand a second line",
                "audit": n == 0,
            }
            services.save_round(None, cluster, indicator_set, data, values)


def _delete_rounds(app, tenant_id):
    from portal.benchmarking.models import BenchmarkRound, IndicatorValue

    with app.app_context(), tenant_scope(tenant_id):
        db.session.execute(delete(IndicatorValue))
        db.session.execute(delete(BenchmarkRound))
        db.session.commit()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rounds_round_trip(app, client, world, factory, fmt):
    factory.enable_plugin(world["a"], "esca")
    a = world["a"]
    _rounds(app, a.id, [world["c1"].id, world["c2"].id])
    login(client, "coord@a.example")
    data = _round_trip(
        app,
        client,
        f"/nordland/rounds/export.{fmt}",
        "/nordland/rounds/import",
        fmt,
        lambda: _delete_rounds(app, a.id),
    )
    header, rows = _table(app, data)
    assert header[-2:] == ["audit", "notes"] and len(rows) == 10
    assert {r[-2] for r in rows} == {"yes", "no"}


def test_rounds_export_holds_only_the_clusters_one_may_enter(app, client, world, factory):
    """The export is the import's file: experts' results, for those who import them."""
    factory.enable_plugin(world["a"], "esca")
    _rounds(app, world["a"].id, [world["c1"].id, world["c2"].id])
    login(client, "assessor@a.example")
    _header, rows = _table(app, client.get("/nordland/rounds/export.csv").data)
    assert {r[0] for r in rows} == {"Arctic Minerals", "Helgeland Health"}
    for email in ("manager@a.example", "observer@a.example"):
        client.post("/logout")
        login(client, email)
        assert client.get("/nordland/rounds/export.csv").status_code == 403


# --- plan actions ----------------------------------------------------------------------------


@pytest.fixture
def plan_with_tricky_text(app, world):
    from tests.test_spreadsheets import _plan

    c1, c2 = world["c1"].id, world["c2"].id
    plan_id = _plan(
        app,
        world["a"],
        c1,
        actions=[
            (
                {
                    "title": "Ærlig tale – 'sitat' 日本",
                    "description": "  leading and trailing spaces  \r\nsecond line æøå\t ",
                    "owner": "manager@a.example",
                    "start_date": date(2025, 1, 6),
                    "due_date": date(2025, 3, 31),
                    "status": "in_progress",
                    "progress": 40,
                    "weight": 2.5,
                },
                [c1, c2],
            ),
            (
                {"title": "=SUM(A1:A2) is not a formula", "description": "-1", "status": "planned"},
                [],
            ),
            ({"title": "007", "description": "'quoted'", "due_date": date(2025, 2, 1)}, None),
        ],
    )
    empty_id = _plan(app, world["a"], c2, title="Empty plan")
    return plan_id, empty_id


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_actions_round_trip(app, client, world, plan_with_tricky_text, fmt):
    plan_id, empty_id = plan_with_tricky_text
    login(client, "coord@a.example")
    # into the same plan: every row updates its action with what it has
    data = _round_trip(
        app,
        client,
        f"/nordland/plans/{plan_id}/actions.{fmt}",
        f"/nordland/plans/{plan_id}/import",
        fmt,
        lambda: None,
    )
    _header, rows = _table(app, data)
    assert "  leading and trailing spaces  \r\nsecond line æøå\t " in [r[2] for r in rows]
    # into another plan as new actions: the same table but for the ids
    checked = check(client, f"/nordland/plans/{empty_id}/import", data, f"a.{fmt}", as_new="y")
    assert checked.status_code == 200, checked.get_data(as_text=True)[-3000:]
    written = confirm(client, f"/nordland/plans/{empty_id}/import/confirm", token_of(checked))
    assert written.status_code == 302
    copy = client.get(f"/nordland/plans/{empty_id}/actions.{fmt}").data
    header, copied = _table(app, copy)
    assert [r[1:] for r in copied] == [r[1:] for r in rows]
