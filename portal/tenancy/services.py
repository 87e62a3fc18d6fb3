"""Creating regions and changing their settings."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import User
from portal.config import SUPPORTED_LOCALES
from portal.errors import ServiceError
from portal.extensions import db
from portal.i18n import CURRENCIES
from portal.permissions import require
from portal.tenancy.branding import normalise_logo, validate_colour
from portal.tenancy.models import Tenant, TenantPlugin
from portal.tenancy.scope import tenant_scope

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Slugs that would shadow the portal's own top-level pages.
RESERVED_SLUGS = frozenset(
    {
        "admin",
        "login",
        "logout",
        "password",
        "profile",
        "invitations",
        "static",
        "plugins",
        "hello",
        "api",
        "health",
        "register",
    }
)


def _validate(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "locale" in values and values["locale"] not in SUPPORTED_LOCALES:
        errors["default_locale"] = [_("Choose one of the offered languages.")]
    if "timezone" in values:
        try:
            ZoneInfo(values["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = [_("Unknown time zone.")]
    if "currency" in values and values["currency"] not in CURRENCIES:
        errors["currency"] = [_("Choose one of the offered currencies.")]
    if "accent_color" in values:
        try:
            values["accent_color"] = validate_colour(values["accent_color"])
        except ServiceError as exc:
            errors["accent_color"] = [exc.message]
    if errors:
        raise ServiceError(_("Check the marked fields."), errors)


def create_tenant(
    user: User | None,
    *,
    slug: str,
    name: str,
    default_locale: str = "en",
    timezone: str = "Europe/Oslo",
    accent_color: str = "#0b6e4f",
    description: str = "",
    currency: str = "EUR",
) -> Tenant:
    if user is not None:
        require(user, "tenant.create")
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug) or slug in RESERVED_SLUGS:
        raise ServiceError(
            _(
                "The short name may hold lowercase letters, digits and hyphens, and must not be "
                "one of the portal's own words."
            ),
            {"slug": [_("Not a valid short name.")]},
        )
    if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise ServiceError(
            _("A region with this short name exists already."),
            {"slug": [_("This short name is taken.")]},
        )
    values = {
        "locale": default_locale,
        "timezone": timezone,
        "accent_color": accent_color,
        "currency": currency,
    }
    _validate(values)
    tenant = Tenant(
        slug=slug,
        name=name.strip(),
        default_locale=default_locale,
        timezone=timezone,
        currency=currency,
        accent_color=values["accent_color"],
        description=description.strip(),
    )
    db.session.add(tenant)
    db.session.commit()
    current_app.extensions["portal_plugins"].call("tenant_created", tenant=tenant)
    return tenant


def update_settings(
    user: User | None,
    tenant: Tenant,
    data: dict[str, Any],
    logo: bytes | None = None,
    remove_logo: bool = False,
) -> Tenant:
    if user is not None:
        require(user, "tenant.manage", tenant)
    values = {
        "locale": data["default_locale"],
        "timezone": data["timezone"],
        "accent_color": data["accent_color"],
    }
    if data.get("currency"):
        values["currency"] = data["currency"]
    _validate(values)
    if logo:
        try:
            png = normalise_logo(logo)
        except ServiceError as exc:
            raise ServiceError(exc.message, {"logo": [exc.message]}) from None
        tenant.logo_png = png
        tenant.logo_updated_at = datetime.now().astimezone()
    elif remove_logo:
        tenant.logo_png = None
        tenant.logo_updated_at = None
    tenant.name = data["name"].strip()
    tenant.description = (data.get("description") or "").strip()
    tenant.default_locale = values["locale"]
    tenant.timezone = values["timezone"]
    tenant.accent_color = values["accent_color"]
    if "currency" in values:
        tenant.currency = values["currency"]
    if "effort_baseline_shared" in data:
        tenant.effort_baseline_shared = bool(data["effort_baseline_shared"])
    for switch in ("register_published", "register_scores_published"):
        if switch in data:
            setattr(tenant, switch, bool(data[switch]))
    db.session.commit()
    return tenant


def plugin_states(tenant: Tenant) -> dict[str, bool]:
    with tenant_scope(tenant.id):
        rows = db.session.scalars(select(TenantPlugin)).all()
    return {row.plugin_name: row.enabled for row in rows}


def set_plugin_enabled(user: User | None, tenant: Tenant, plugin_name: str, enabled: bool) -> None:
    if user is not None:
        require(user, "tenant.plugins", tenant)
    host = current_app.extensions["portal_plugins"]
    if plugin_name not in host.plugins or host.plugins[plugin_name].load_error:
        raise ServiceError(_("This plugin is not installed."))
    with tenant_scope(tenant.id):
        row = db.session.scalar(select(TenantPlugin).where(TenantPlugin.plugin_name == plugin_name))
        if row is None:
            row = TenantPlugin(tenant_id=tenant.id, plugin_name=plugin_name, enabled=enabled)
            db.session.add(row)
        row.enabled = enabled
        db.session.commit()
    # The request's cache of switched-on plugins is stale now.
    if has_request_context():
        g.pop("_enabled_plugins", None)
