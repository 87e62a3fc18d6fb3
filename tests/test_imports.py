"""Check first, then confirm, for every import: the first submission writes nothing, the
confirm writes exactly what the preview showed, once, and only for its uploader in its
region, before it expires."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.clusters.models import MemberOrganisation
from portal.extensions import db
from portal.imports.models import PendingImport
from portal.tenancy import unscoped
from tests.conftest import login
from tests.import_support import check, confirm, expire, token_of
from tests.isolation_support import snapshot


def _count(app, model, **where) -> int:
    with app.app_context(), unscoped():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def _data(app, tenant_id) -> dict:
    with app.test_request_context():
        rows = snapshot(tenant_id)
    rows.pop("pending_import", None)
    # The region's data and cache versions: the front page lists imports waiting to be confirmed.
    rows.pop("tenant", None)
    rows.pop("cache_version", None)
    return rows


# --- the kinds of import ---------------------------------------------------------------------


def _members(app, world, factory):
    cid = world["c1"].id
    url = f"/nordland/clusters/{cid}/members/import"
    other = world["c2"]
    return SimpleNamespace(
        url=url,
        confirm_url=url + "/confirm",
        user="coord@a.example",
        same_rights="coord2@a.example",
        good="name,member_type,city\nPolar Bær AS,company_sme,Tromsø\nIce Lab,university,\n".encode(),
        bad=b"name,member_type\n,other\n",
        count=lambda: _count(app, MemberOrganisation, cluster_id=cid),
        rows=2,
        fields={},
        # the same import elsewhere: another cluster's confirm URL
        elsewhere=f"/nordland/clusters/{other.id}/members/import/confirm",
        foreign=lambda b_cluster: f"/bravo/clusters/{b_cluster}/members/import/confirm",
        change=lambda: _add_member(app, world["a"].id, cid, "Ice Lab") or 1,
    )


def _add_member(app, tenant_id, cluster_id, name):
    from portal.clusters.models import MemberType
    from portal.tenancy import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        db.session.add(
            MemberOrganisation(
                tenant_id=tenant_id, cluster_id=cluster_id, name=name, member_type=MemberType.OTHER
            )
        )
        db.session.commit()


def _rounds(app, world, factory):
    from portal.benchmarking.models import IndicatorValue

    factory.enable_plugin(world["a"], "esca")
    url = "/nordland/rounds/import"
    header = "cluster,date,indicator_set,version,indicator,value,comment,assessor\n"
    return SimpleNamespace(
        url=url,
        confirm_url=url + "/confirm",
        user="coord@a.example",
        same_rights="coord2@a.example",
        good=(
            header + "Arctic Minerals,2025-03-01,esca-gold,2013,engagement,4,Spørreundersøkelse,"
            "Ann Expert\n"
            'Arctic Minerals,2025-03-01,esca-gold,2013,concentration,"2,5",,\n'
        ).encode(),
        bad=(header + "Arctic Minerals,2025-03-01,esca-gold,2013,engagement,9,,Ann\n").encode(),
        count=lambda: _count(app, IndicatorValue),
        rows=2,
        fields={},
        elsewhere=None,
        foreign=lambda _cluster: "/bravo/rounds/import/confirm",
        change=lambda: _add_round(app, world["a"].id, world["c1"].id),
    )


def _add_round(app, tenant_id, cluster_id) -> int:
    from datetime import date

    from portal.benchmarking import services
    from portal.clusters.models import Cluster
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(tenant_id):
        cluster = db.session.get(Cluster, cluster_id)
        indicator_set = services.find_set("esca-gold", "2013")
        services.save_round(
            None, cluster, indicator_set, {"held_on": date(2025, 3, 1)}, {"engagement": (3, "")}
        )
    return 1


def _actions(app, world, factory):
    from portal.plans.models import Action
    from tests.test_spreadsheets import _plan

    plan_id = _plan(app, world["a"], world["c1"].id, actions=[({"title": "Old title"}, None)])
    other_plan = _plan(app, world["a"], world["c1"].id, title="Other plan")
    with app.app_context(), unscoped():
        action_id = db.session.scalar(select(Action.id).where(Action.plan_id == plan_id))

    def rename():
        with app.app_context(), unscoped():
            db.session.get(Action, action_id).title = "Renamed meanwhile"
            db.session.commit()
        return 0

    url = f"/nordland/plans/{plan_id}/import"
    return SimpleNamespace(
        url=url,
        confirm_url=url + "/confirm",
        user="coord@a.example",
        same_rights="coord2@a.example",
        good=f"id,title,description\n{action_id},Ny tittel,  mellomrom  \n,Brand new,\n".encode(),
        bad=b"title,status\nA,zzz\n",
        count=lambda: _count(app, Action, plan_id=plan_id),
        rows=1,
        fields={},
        elsewhere=f"/nordland/plans/{other_plan}/import/confirm",
        foreign=lambda _cluster: f"/bravo/plans/{plan_id}/import/confirm",
        change=rename,
    )


KINDS = {"members": _members, "rounds": _rounds, "actions": _actions}


def _grant(app, email, tenant_id, role):
    from portal.accounts.models import Role, User
    from portal.accounts.services import grant_role
    from portal.tenancy.models import Tenant

    with app.test_request_context(), unscoped():
        user = db.session.scalar(select(User).where(User.email == email))
        grant_role(db.session.get(Tenant, tenant_id), user, Role(role))
        db.session.commit()


@pytest.fixture(params=sorted(KINDS))
def kind(request, app, world, factory):
    spec = KINDS[request.param](app, world, factory)
    factory.user(spec.same_rights, tenant=world["a"], role="coordinator")
    return spec


def test_the_check_writes_nothing_and_the_confirm_writes_the_preview(app, client, world, kind):
    login(client, kind.user)
    before, count = _data(app, world["a"].id), kind.count()
    checked = check(client, kind.url, kind.good, **kind.fields)
    assert checked.status_code == 200, checked.get_data(as_text=True)[-3000:]
    token = token_of(checked)
    assert token and "Nothing is written yet" in checked.get_data(as_text=True)
    assert _data(app, world["a"].id) == before and kind.count() == count
    assert _count(app, PendingImport) == 1
    written = confirm(client, kind.confirm_url, token)
    assert written.status_code == 302, written.get_data(as_text=True)[-3000:]
    assert kind.count() == count + kind.rows
    again = confirm(client, kind.confirm_url, token)
    assert again.status_code == 409 and "confirmed already" in again.get_data(as_text=True)
    assert kind.count() == count + kind.rows


def test_only_the_uploader_in_the_region_and_the_target_can_confirm(
    app, client, world, factory, kind
):
    login(client, kind.user)
    token = token_of(check(client, kind.url, kind.good, **kind.fields))
    count = kind.count()
    other = app.test_client()
    login(other, kind.same_rights)
    assert confirm(other, kind.confirm_url, token).status_code == 404
    if kind.elsewhere:
        assert confirm(client, kind.elsewhere, token).status_code == 404
    b_cluster = factory.cluster(world["b"], "Bravo cluster")
    _grant(app, kind.user, world["b"].id, "coordinator")  # a coordinator there too
    assert confirm(client, kind.foreign(b_cluster.id), token).status_code == 404
    for junk in ("", "x", "../../etc/passwd", "A" * 43):
        assert confirm(client, kind.confirm_url, junk).status_code == 404
    assert kind.count() == count
    assert confirm(client, kind.confirm_url, token).status_code == 302


def test_an_expired_check_cannot_be_confirmed(app, client, world, kind):
    login(client, kind.user)
    token = token_of(check(client, kind.url, kind.good, **kind.fields))
    count = kind.count()
    expire(app, token)
    response = confirm(client, kind.confirm_url, token)
    assert response.status_code == 409 and "expired" in response.get_data(as_text=True)
    assert kind.count() == count


def test_a_change_of_the_data_after_the_check_is_not_written_blindly(app, client, world, kind):
    login(client, kind.user)
    token = token_of(check(client, kind.url, kind.good, **kind.fields))
    count = kind.count()
    adds = kind.change()
    changed = confirm(client, kind.confirm_url, token)
    assert kind.count() == count + adds  # only the change itself
    text = changed.get_data(as_text=True)
    if changed.status_code == 422:  # the file no longer fits the data
        assert "Nothing was imported" in text
        return
    # the preview of what the import would do now, to confirm again
    assert changed.status_code == 200 and "The data changed since" in text
    assert token_of(changed) == token
    assert confirm(client, kind.confirm_url, token).status_code == 302
    assert kind.count() == count + adds + kind.rows


def test_problems_are_translated_and_keep_nothing(app, client, world, kind):
    login(client, kind.user)
    client.post("/language", data={"locale": "nb", "next": "/"})
    before = _data(app, world["a"].id)
    response = check(client, kind.url, kind.bad, **kind.fields)
    assert response.status_code == 422
    assert "Ingenting ble importert" in response.get_data(as_text=True)
    assert token_of(response) is None and _count(app, PendingImport) == 0
    assert _data(app, world["a"].id) == before
