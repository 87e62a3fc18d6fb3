"""Cluster facts: each cluster's key figures per year (employees, turnover, joint projects).

The living example of a portal plugin: it uses the toolkit only and implements
blueprints, navigation, dashboard and cluster panels, permissions, templates,
static files, translations, CLI commands, its own migrations and demo data.
"""

from __future__ import annotations

from pathlib import Path

from portal.toolkit import (
    MigrationBranch,
    NavItem,
    Panel,
    Role,
    _l,
    hookimpl,
    may,
    role_in,
)

HERE = Path(__file__).parent


@hookimpl
def plugin_info():
    return {
        "title": _l("Cluster facts"),
        "description": _l("Key figures per cluster and year: employees, turnover, joint projects."),
    }


@hookimpl
def blueprints():
    from portal_cluster_facts.views import bp

    return [bp]


@hookimpl
def template_folders():
    return [str(HERE / "templates")]


@hookimpl
def static_folders():
    return {"cluster_facts": str(HERE / "static")}


@hookimpl
def translation_folders():
    return [str(HERE / "translations")]


@hookimpl
def migration_branches():
    from portal_cluster_facts.models import TABLES

    return [MigrationBranch("cluster_facts", str(HERE / "migrations" / "versions"), TABLES)]


@hookimpl
def cli_commands():
    from portal_cluster_facts.cli import facts

    return [facts]


@hookimpl
def nav_items(tenant, user):
    return [NavItem(_l("Key figures"), "cluster_facts.overview", order=40)]


@hookimpl
def dashboard_panels(tenant, user):
    from portal_cluster_facts import services

    rows = services.latest_per_cluster()
    return [
        Panel(
            _l("Key figures of the forum"),
            "cluster_facts/_dashboard_panel.html",
            {"totals": services.totals(rows)},
            order=50,
        )
    ]


@hookimpl
def cluster_panels(cluster, user):
    from portal_cluster_facts import services

    figures = services.figures_of(cluster.id)[:2]
    return [
        Panel(
            _l("Key figures"),
            "cluster_facts/_cluster_panel.html",
            {
                "cluster": cluster,
                "latest": figures[0] if figures else None,
                "previous": figures[1] if len(figures) > 1 else None,
                "can_edit": may(user, "facts.edit", cluster),
            },
            order=20,
        )
    ]


@hookimpl
def check_permission(user, action, obj):
    if action != "facts.edit":
        return None
    tenant_id = getattr(obj, "tenant_id", None)
    role = role_in(user, tenant_id)
    if role == Role.COORDINATOR:
        return True
    # Managers keep their own clusters' figures: the same rule as editing the cluster.
    return role == Role.CLUSTER_MANAGER and may(user, "cluster.edit", obj)


@hookimpl
def demo_data(tenant):
    from portal_cluster_facts.demo import load

    load(tenant)
