"""Joint-action tracking: actions shared by several clusters of a programme, each cluster's
contribution, progress rolled up, the value of working together, and the effect on the
linked indicators. First-party, loaded through its entry point; uses the toolkit only.
"""

from __future__ import annotations

from pathlib import Path

from portal.toolkit import MigrationBranch, NavItem, _l, hookimpl, may
from portal_joint import models  # noqa: F401  (the tables exist whenever the plugin does)

HERE = Path(__file__).parent


@hookimpl
def plugin_info():
    return {
        "title": _l("Joint actions"),
        "description": _l(
            "Actions shared by several clusters: contributions, progress, cost, the effort "
            "saved by working together, and the effect on indicators."
        ),
    }


@hookimpl
def blueprints():
    from portal_joint import flow_views, import_views, views  # noqa: F401  (they add the pages)
    from portal_joint.blueprint import bp

    return [bp]


@hookimpl
def api_blueprints():
    from portal_joint.api import blp

    return [blp]


@hookimpl
def template_folders():
    return [str(HERE / "templates")]


@hookimpl
def static_folders():
    return {"joint": str(HERE / "static")}


@hookimpl
def translation_folders():
    return [str(HERE / "translations")]


@hookimpl
def migration_branches():
    from portal_joint.models import TABLES

    return [MigrationBranch("joint", str(HERE / "migrations" / "versions"), TABLES)]


@hookimpl
def check_permission(user, action, obj):
    from portal_joint.permissions import check

    return check(user, action, obj)


@hookimpl
def nav_items(tenant, user):
    if may(user, "joint.view", tenant):
        return [NavItem(_l("Joint actions"), "joint.index", order=35)]
    return None


# --- joint actions made from elsewhere, notices, digest, demo (flow_views, digest, demo) ----


@hookimpl
def followup_targets(tenant):
    from portal.toolkit import FollowupTarget

    return [FollowupTarget("joint_action", _l("Make it a joint action"), "joint.from_finding", 5)]


@hookimpl
def indicator_work(tenant, keys):
    """The joint actions aimed at these indicators, measured by the core: two queries."""
    from portal_joint.work import indicator_work as work

    return work(keys)


@hookimpl
def plan_panels(plan, user):
    from portal_joint.flow_views import plan_panels as panels

    return panels(plan, user)


@hookimpl
def workshop_panels(workshop, user):
    from portal_joint.flow_views import workshop_panels as panels

    return panels(workshop, user)


@hookimpl
def dashboard_panels(tenant, user):
    from portal_joint.flow_views import dashboard_panels as panels

    return panels(tenant, user)


@hookimpl
def reminders(tenant, today):
    from portal_joint.digest import reminders as digest

    return digest(tenant, today)


@hookimpl
def notification_kinds():
    from portal_joint.digest import notification_kinds as kinds

    return kinds()


@hookimpl
def demo_data(tenant):
    from portal_joint.demo import load

    load(tenant)


# --- panels on a cluster's and a programme's page (views) -----------------------------------


@hookimpl
def cluster_panels(cluster, user):
    """How many contributions to open joint actions the cluster has: one query."""
    if not may(user, "joint.view", cluster):
        return None
    from sqlalchemy import func, select

    from portal.toolkit import Panel, db
    from portal_joint.models import JointAction, JointStatus, Participation

    open_count = db.session.scalar(
        select(func.count())
        .select_from(Participation)
        .join(JointAction, JointAction.id == Participation.action_id)
        .where(
            Participation.cluster_id == cluster.id,
            Participation.left_on.is_(None),
            JointAction.status.not_in([JointStatus.DONE, JointStatus.CANCELLED]),
        )
    )
    return [
        Panel(
            _l("Joint actions"),
            "joint/_cluster_panel.html",
            {"cluster": cluster, "open_count": open_count},
            order=40,
        )
    ]


@hookimpl
def programme_panels(programme, user):
    """The programme's joint actions summed up (counts by status, joint progress, the few due
    first) and a link to its board: two queries, whatever the number of joint actions, kept
    until the region's own rows change (an action's write in the programme keeps them)."""
    if not may(user, "joint.view", programme):
        return None
    from datetime import date

    from portal.toolkit import Panel
    from portal_joint.forms import JOINT_STATUS_LABELS
    from portal_joint.programme_summary import kept_programme_summary

    today = date.today()
    summary = kept_programme_summary(programme.tenant_id, programme.id, today, limit=5)
    return [
        Panel(
            _l("Joint actions"),
            "joint/_programme_summary.html",
            {
                "programme": programme,
                "summary": summary,
                "count": summary.total,
                "progress": summary.progress,
                "status_labels": JOINT_STATUS_LABELS,
                "today": today,
            },
            order=40,
            own_rows_only=True,  # joint actions and participations, kept by the region
        )
    ]


@hookimpl
def programme_report_sections(programme, user, today):
    """The programme's joint actions and the effort saved, for its progress report."""
    if not may(user, "joint.view", programme):
        return None
    from portal_joint.report import sections

    return sections(programme, today)
