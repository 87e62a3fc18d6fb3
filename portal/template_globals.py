"""Names every template can use."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from portal import formatting
from portal.i18n import (
    ACTION_STATUS_LABELS,
    AUDIT_ACTION_LABELS,
    LANGUAGE_NAMES,
    MEMBER_TYPE_LABELS,
    MILESTONE_KIND_LABELS,
    PLAN_KIND_LABELS,
    PRIORITY_LABELS,
    REGISTRATION_STATUS_LABELS,
    ROLE_LABELS,
)
from portal.labels.registry import level_badge, scheme_title
from portal.permissions import may, role_in
from portal.plugin_panels import tenant_navigation
from portal.web.fragments import kept_choice, kept_fragment
from portal.web.personal import personal_part
from portal.web.widgets import labelled_checkboxes


def url_with(**changes) -> str:
    """The current URL with some query arguments replaced (for pagers and filters)."""
    path = request.view_args or {}
    # A query argument never overrides a path variable (?cluster_id=1 on /clusters/1) nor
    # reaches url_for's own options (?_external=1, ?_scheme=...).
    args = {k: v for k, v in request.args.to_dict().items() if k not in path and k[:1] != "_"}
    args.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        args.pop(key, None)
    return url_for(request.endpoint, **path, **args)


def format_money(value: Any, tenant: Any = None) -> str:
    """An amount in the region's currency and the reader's language (portal.formatting)."""
    return formatting.format_money(value, tenant)


def init_app(app: Flask) -> None:
    formatting.init_app(app)
    app.jinja_env.globals.update(
        may=lambda action, obj=None: may(current_user, action, obj),
        tenant_navigation=tenant_navigation,
        personal_part=personal_part,
        kept_fragment=kept_fragment,
        kept_choice=kept_choice,
        labelled_checkboxes=labelled_checkboxes,
        url_with=url_with,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        ROLE_LABELS=ROLE_LABELS,
        AUDIT_ACTION_LABELS=AUDIT_ACTION_LABELS,
        ACTION_STATUS_LABELS=ACTION_STATUS_LABELS,
        PRIORITY_LABELS=PRIORITY_LABELS,
        MILESTONE_KIND_LABELS=MILESTONE_KIND_LABELS,
        REGISTRATION_STATUS_LABELS=REGISTRATION_STATUS_LABELS,
        PLAN_KIND_LABELS=PLAN_KIND_LABELS,
        label_badge=level_badge,
        scheme_title=scheme_title,
        MEMBER_TYPE_LABELS=MEMBER_TYPE_LABELS,
        money=format_money,
        # A function, not a value: a page's parts render on every answer (portal.web.personal)
        # and must not load the membership unless they show the role.
        my_role=lambda: role_in(current_user, g.get("tenant")) if g.get("tenant") else None,
    )

    @app.context_processor
    def _context():
        tenant = g.get("tenant")
        return {
            "tenant": tenant,
            "current_locale": str(get_locale() or "en"),
        }
