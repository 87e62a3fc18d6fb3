"""Benchmark comparisons: a cluster over time and against the forum, the forum's portfolio
scorecard, and the forum against reference portfolios; printable reports and XLSX.

First-party, loaded through its entry point like any third-party plugin; uses the toolkit
only. Other plugins add comparison kinds through the ``comparison_kinds`` hook.
"""

from __future__ import annotations

from pathlib import Path

from portal.toolkit import MigrationBranch, NavItem, Panel, _l, hookimpl, may
from portal_compare import models  # noqa: F401  (the tables exist whenever the plugin does)

HERE = Path(__file__).parent


@hookimpl
def plugin_info():
    return {
        "title": _l("Benchmark comparisons"),
        "description": _l(
            "Clusters over time and against the forum, the forum's portfolio scorecard and "
            "reference portfolios, as charts, tables, printable reports and Excel."
        ),
    }


@hookimpl
def blueprints():
    from portal_compare import reference_views, views  # noqa: F401  (they add the pages)
    from portal_compare.blueprint import bp

    return [bp]


@hookimpl
def api_blueprints():
    from portal_compare.api import blp

    return [blp]


@hookimpl
def template_folders():
    return [str(HERE / "templates")]


@hookimpl
def static_folders():
    return {"compare": str(HERE / "static")}


@hookimpl
def translation_folders():
    return [str(HERE / "translations")]


@hookimpl
def migration_branches():
    from portal_compare.models import TABLES

    return [MigrationBranch("compare", str(HERE / "migrations" / "versions"), TABLES)]


@hookimpl
def comparison_kinds():
    from portal_compare.kinds import KINDS

    return list(KINDS)


@hookimpl
def check_permission(user, action, obj):
    from portal_compare.privacy import check

    return check(user, action, obj)


@hookimpl
def nav_items(tenant, user):
    if may(user, "compare.view", tenant):
        return [NavItem(_l("Comparisons"), "compare.index", order=45)]
    return None


@hookimpl
def cluster_panels(cluster, user):
    if may(user, "compare.cluster", cluster):
        return [Panel(_l("Comparisons"), "compare/_cluster_panel.html", {"cluster": cluster}, 40)]
    return None


@hookimpl
def demo_data(tenant):
    from portal_compare.demo import load

    load(tenant)
