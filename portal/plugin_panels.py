"""Rendering what plugins add to pages: panels and navigation entries."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError

from portal.permissions import may
from portal.toolkit import NavItem
from portal.web.page_frames import no_frame


@dataclass
class RenderedPanel:
    plugin: str
    title: str
    html: Markup
    order: int


def panels_for(hook_name: str, **kwargs) -> list[RenderedPanel]:
    """Ask enabled plugins for panels and render each one; a failing panel is dropped."""
    host = current_app.extensions["portal_plugins"]
    tenant = g.get("tenant")
    if tenant is None:
        return []
    rendered = []
    for plugin_name, panels in host.call_named(
        hook_name, tenant_id=tenant.id, user=current_user, **kwargs
    ):
        for panel in panels:
            if not panel.own_rows_only:
                no_frame()  # it may show what the page's frame does not key on
            try:
                # render_template autoescapes; its output is safe HTML.
                html = Markup(render_template(panel.template, **panel.context))  # noqa: S704
            except Exception as exc:
                host.disable_after_error(plugin_name, f"{hook_name} (template)", exc)
                continue
            rendered.append(RenderedPanel(plugin_name, str(panel.title), html, panel.order))
    return sorted(rendered, key=lambda p: (p.order, p.title))


@dataclass
class NavLink:
    label: str
    url: str
    active: bool


def _core_items(tenant) -> list[NavItem]:
    items = [
        NavItem(_l("Overview"), "main.dashboard", order=0),
        NavItem(_l("Clusters"), "clusters.index", order=10),
        NavItem(_l("Programmes"), "programmes.index", order=20),
        NavItem(_l("Workshops"), "workshops.index", order=25),
        NavItem(_l("Plans"), "plans.index", order=30),
        NavItem(_l("My work"), "plans.my_work", order=35),
        NavItem(_l("Labels"), "labels.register", order=45),
    ]
    if may(current_user, "tenant.people", tenant):
        items.append(NavItem(_l("People"), "settings.people", order=80))
    if may(current_user, "tenant.manage", tenant):
        items.append(NavItem(_l("Settings"), "settings.tenant", order=90))
    return items


def tenant_navigation() -> list[NavLink]:
    tenant = g.get("tenant")
    if tenant is None or not current_user.is_authenticated:
        return []
    host = current_app.extensions["portal_plugins"]
    items = _core_items(tenant) + host.call_flat(
        "nav_items", tenant_id=tenant.id, tenant=tenant, user=current_user
    )
    links = []
    current_blueprint = (request.endpoint or "").rsplit(".", 1)[0]
    # An entry for exactly this page wins; else the entry of the page's section.
    exact = any(item.endpoint == request.endpoint for item in items)
    for item in sorted(items, key=lambda i: i.order):
        try:
            url = url_for(item.endpoint, **item.values)
        except BuildError:
            continue
        blueprint = item.endpoint.rsplit(".", 1)[0]
        if exact:
            active = item.endpoint == request.endpoint
        else:
            active = blueprint == current_blueprint and blueprint not in {"main", "settings"}
            if active and any(
                o.endpoint.rsplit(".", 1)[0] == blueprint and o.order < item.order for o in items
            ):
                active = False  # the section's first entry stands for it
        links.append(NavLink(str(item.label), url, active))
    return links
