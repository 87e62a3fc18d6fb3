"""Putting the tenant of the URL (``/<tenant>/...``) in scope for the request."""

from __future__ import annotations

import contextlib

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.extensions import db
from portal.keeps import Keep, reading_request
from portal.tenancy.models import Tenant
from portal.tenancy.scope import reset_request_scope, set_request_scope

# Members seen to belong to the region, by (tenant, data version, user): no membership query.
MEMBERS_SEEN = Keep("portal_members_seen", at_most=10_000)


def public_in_tenant(view):
    """Mark a tenant page that answers without a sign-in (it must check its own secret,
    e.g. a calendar feed's key). The tenant is still put in scope."""
    view.public_in_tenant = True
    return view


def init_tenant_urls(app: Flask) -> None:

    @app.url_value_preprocessor
    def _pull_tenant(endpoint, values):
        g.tenant = None
        g.tenant_slug = None
        g.tenant_scope_token = set_request_scope(None)
        if not values or "tenant" not in values:
            return
        slug = values.pop("tenant")
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
        g.tenant = tenant
        g.tenant_slug = slug
        if tenant is not None:
            reset_request_scope(g.tenant_scope_token)
            g.tenant_scope_token = set_request_scope(tenant.id)

    @app.url_defaults
    def _push_tenant(endpoint, values):
        if "tenant" in values or g.get("tenant") is None:
            return
        try:
            expecting = app.url_map.is_endpoint_expecting(endpoint, "tenant")
        except KeyError:  # an unknown endpoint: url_for will say so itself
            return
        if expecting:
            values["tenant"] = g.tenant.slug

    @app.before_request
    def _check_tenant_access():
        if g.get("tenant_slug") is None:
            return None
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "public_in_tenant", False):
            if g.tenant is None:
                abort(404)
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        # Unknown tenant and a tenant you do not belong to look the same: 404, and the
        # error page must not show the tenant's name or colours either.
        if g.tenant is None or not _may_enter(g.tenant):
            g.tenant = None
            reset_request_scope(g.tenant_scope_token)
            g.tenant_scope_token = set_request_scope(None)
            abort(404)
        host = app.extensions["portal_plugins"]
        owner = host.blueprint_owner.get(request.blueprint or "")
        if owner and not host.is_enabled(owner, g.tenant.id):
            abort(404)
        return None

    def _may_enter(tenant) -> bool:
        """Whether the signed-in user is a member of the tenant. A yes is kept across reading
        requests by the tenant's data version, which every membership change renews; the
        user row itself (active, signed out everywhere) is loaded fresh on every request."""
        from portal.permissions import may, membership_for

        key = (tenant.id, tenant.data_version, current_user.id)
        keep = reading_request() and not current_user.is_platform_admin
        if keep and MEMBERS_SEEN.get(key):
            return True
        allowed = may(current_user, "tenant.view", tenant)
        if allowed and keep and membership_for(current_user, tenant) is not None:
            MEMBERS_SEEN.put(key, True)
        return allowed

    @app.teardown_request
    def _reset_scope(exc):
        token = g.pop("tenant_scope_token", None)
        if token is not None:
            # A token from another context (streamed responses) cannot be reset.
            with contextlib.suppress(ValueError):
                reset_request_scope(token)
