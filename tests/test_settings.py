"""Region settings and branding, people and roles, platform admin."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.extensions import db
from portal.tenancy import unscoped
from portal.tenancy.branding import contrast, readable_on_white, theme_css
from portal.tenancy.models import Tenant
from tests.conftest import Factory, login
from tests.locking_support import version_on

SETTINGS = {
    "name": "Nordland Cluster Forum",
    "default_locale": "nb",
    "timezone": "Europe/Oslo",
    "accent_color": "#ffd700",
    "description": "The county's forum",
}


def _png(size=(900, 300), colour=(0, 80, 125)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _tenant(app, tenant_id):
    from types import SimpleNamespace

    with app.app_context():
        t = db.session.get(Tenant, tenant_id)
        return SimpleNamespace(
            name=t.name,
            default_locale=t.default_locale,
            accent_color=t.accent_color,
            logo_png=t.logo_png,
        )


def test_coordinator_changes_settings_and_logo(client, world, app):
    login(client, "coord@a.example")
    response = client.post(
        "/nordland/settings",
        content_type="multipart/form-data",
        data={
            **SETTINGS,
            "logo": (io.BytesIO(_png()), "logo.png"),
            "version": version_on(client, "/nordland/settings"),
        },
    )
    assert response.status_code == 302
    tenant = _tenant(app, world["a"].id)
    assert (tenant.name, tenant.default_locale, tenant.accent_color) == (
        "Nordland Cluster Forum",
        "nb",
        "#ffd700",
    )
    logo = client.get("/nordland/logo")
    assert logo.mimetype == "image/png"
    assert max(Image.open(io.BytesIO(logo.data)).size) == 400  # scaled down
    page = client.get("/nordland/").get_data(as_text=True)
    assert "/nordland/logo" in page and "Nordland Cluster Forum" in page
    assert '<html lang="nb">' in page  # the region's language, the user chose none


def test_bad_logo_and_colour_are_refused_and_change_nothing(client, world, app):
    login(client, "coord@a.example")
    version = version_on(client, "/nordland/settings")
    for extra, message in [
        ({"logo": (io.BytesIO(b"<svg onload=alert(1)>"), "logo.png")}, b"not an image"),
        ({"logo": (io.BytesIO(b"GIF89a" + b"\x00" * 50), "logo.gif")}, b"not an image"),
        ({"accent_color": "red"}, b"six hex digits"),
        ({"timezone": "Mars/Base"}, b"Not a valid choice"),
        ({"default_locale": "xx"}, b"Not a valid choice"),
    ]:
        response = client.post(
            "/nordland/settings",
            content_type="multipart/form-data",
            data={**SETTINGS, **extra, "version": version},
        )
        assert response.status_code == 422, extra
        assert message in response.data, (extra, response.data[-2500:])
    tenant = _tenant(app, world["a"].id)
    assert tenant.name == "Nordland Forum" and tenant.logo_png is None


def test_theme_keeps_the_accent_readable():
    assert contrast(readable_on_white("#ffd700"), "#ffffff") >= 4.5
    assert readable_on_white("#00507d") == "#00507d"
    css = theme_css("#ffd700")
    assert "--brand-accent:#ffd700" in css and "--pico-primary:#ffd700" not in css
    assert "--brand-accent:#0b6e4f" in theme_css("javascript:alert(1)")


def test_the_regions_currency_shows_on_every_amount(client, world, app):
    """Amounts of money are in the region's currency, written in the reader's language; an
    unknown currency is refused and changes nothing."""
    from datetime import date

    from portal.clusters.models import Cluster
    from portal.plans import services as plans
    from portal.tenancy import tenant_scope

    login(client, "coord@a.example")
    version = version_on(client, "/nordland/settings")
    refused = client.post(
        "/nordland/settings",
        content_type="multipart/form-data",
        data={**SETTINGS, "currency": "XYZ", "version": version},
    )
    assert refused.status_code == 422 and b"offered currencies" in refused.data
    with app.app_context():
        assert db.session.get(Tenant, world["a"].id).currency == "EUR"
    saved = client.post(
        "/nordland/settings",
        content_type="multipart/form-data",
        data={**SETTINGS, "currency": "NOK", "version": version},
    )
    assert saved.status_code == 302
    with app.test_request_context(), tenant_scope(world["a"].id):
        plan = plans.create_plan(
            None,
            {"title": "Plan", "start_date": date(2026, 1, 1), "end_date": date(2026, 12, 31)},
            tenant_id=world["a"].id,
            cluster=db.session.get(Cluster, world["c1"].id),
        )
        action_id = plans.create_action(
            None, plan, {"title": "Survey", "planned_money": "12500", "spent_money": "9000.5"}
        ).id
    page = client.get(f"/nordland/actions/{action_id}").get_data(as_text=True)
    assert "kr\xa012\u202f500,00" in page or "12\xa0500,00\xa0kr" in page, page[-3000:]


def test_only_coordinators_reach_settings(client, world):
    login(client, "manager@a.example")
    for url in (
        "/nordland/settings",
        "/nordland/settings/plugins",
        "/nordland/people",
        "/nordland/audit",
    ):
        assert client.get(url).status_code == 403, url


def test_change_role_and_keep_at_least_one_coordinator(client, world, app):
    login(client, "coord@a.example")
    with app.app_context(), unscoped():
        ids = dict(db.session.execute(select(User.email, Membership.id).join(Membership)).all())
    observer = f"/nordland/people/{ids['observer@a.example']}"
    response = client.post(
        observer,
        data={
            "role": "cluster_manager",
            "clusters": [str(world["c2"].id)],
            "version": version_on(client, observer),
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    login(client, "observer@a.example")
    assert client.get(f"/nordland/clusters/{world['c2'].id}/edit").status_code == 200
    client.post("/logout")
    login(client, "coord@a.example")
    coordinator = f"/nordland/people/{ids['coord@a.example']}"
    refused = client.post(
        coordinator,
        data={"role": "observer", "version": version_on(client, coordinator)},
        follow_redirects=True,
    )
    assert b"at least one coordinator" in refused.data
    refused = client.post(
        f"/nordland/people/{ids['coord@a.example']}/remove", follow_redirects=True
    )
    assert b"at least one coordinator" in refused.data
    removed = client.post(f"/nordland/people/{ids['member@a.example']}/remove")
    assert removed.status_code == 302
    client.post("/logout")
    login(client, "member@a.example")
    assert client.get("/nordland/").status_code == 404


def test_inviting_someone_already_in_the_region_is_refused(client, world):
    login(client, "coord@a.example")
    response = client.post(
        "/nordland/people", data={"email": "observer@a.example", "role": "member"}
    )
    assert response.status_code == 422 and b"has a role in the region already" in response.data


def test_platform_admin_creates_a_region_with_a_coordinator_invitation(client, world, app):
    login(client, "admin@portal.example")
    response = client.post(
        "/admin/",
        data={
            "name": "Troms Forum",
            "slug": "troms",
            "default_locale": "en",
            "timezone": "Europe/Oslo",
            "coordinator_email": "boss@troms.example",
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/").get_data(as_text=True)
    assert "Troms Forum" in page
    assert "boss@troms.example" in client.get("/admin/outbox").get_data(as_text=True)
    taken = client.post(
        "/admin/",
        data={"name": "Again", "slug": "troms", "default_locale": "en", "timezone": "UTC"},
    )
    assert taken.status_code == 422 and b"taken" in taken.data
    reserved = client.post(
        "/admin/",
        data={"name": "Admin", "slug": "admin", "default_locale": "en", "timezone": "UTC"},
    )
    assert reserved.status_code == 422
    # A new region starts empty, and says so.
    empty = client.get("/troms/").get_data(as_text=True)
    clusters = empty[empty.index('id="fp-clusters"') :]
    assert "No clusters yet." in clusters and "No member organisations yet." in clusters
    assert "Add the first cluster" in clusters  # the coordinator's way out of the empty state


def test_non_admins_cannot_reach_platform_admin(client, world):
    login(client, "coord@a.example")
    for url in ("/admin/", "/admin/plugins", "/admin/outbox", "/admin/audit"):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(
            "/admin/", data={"name": "X", "slug": "x", "default_locale": "en", "timezone": "UTC"}
        ).status_code
        == 403
    )


def test_landing_page_lists_the_users_regions(make_app):
    app = make_app()
    factory = Factory(app)
    one, two = factory.tenant("one", "Region One"), factory.tenant("two", "Region Two")
    factory.user("both@x.example", tenant=one, role="observer")
    factory.user("solo@x.example", tenant=two, role="member")
    from portal.accounts import services
    from portal.accounts.models import Role

    with app.test_request_context():
        user = services.user_by_email("both@x.example")
        services.grant_role(db.session.get(Tenant, two.id), user, Role.COORDINATOR)
        db.session.commit()
    client = app.test_client()
    login(client, "both@x.example")
    page = client.get("/").get_data(as_text=True)
    assert "Region One" in page and "Region Two" in page and "Coordinator" in page
    solo = app.test_client()
    login(solo, "solo@x.example")
    assert solo.get("/").headers["Location"] == "/two/"


def test_not_found_and_forbidden_pages_help(client, world):
    login(client, "observer@a.example")
    missing = client.get("/nordland/clusters/424242")
    assert missing.status_code == 404 and b"Go to the start page" in missing.data
    forbidden = client.get("/nordland/clusters/new")
    assert forbidden.status_code == 403 and b"Ask a coordinator" in forbidden.data
