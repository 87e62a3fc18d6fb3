"""A test plugin implementing every hook and recording each call."""

from __future__ import annotations

from pathlib import Path

import click
import marshmallow as ma
from flask import Blueprint

from portal.toolkit import (
    ApiBlueprint,
    MigrationBranch,
    NavItem,
    Panel,
    TenantBlueprint,
    hookimpl,
)

HERE = Path(__file__).parent
calls: list[tuple[str, tuple]] = []

bp = TenantBlueprint("recorder", __name__, url_prefix="/recorder")


@bp.route("/")
def page():
    return "recorder page"


plain_bp = Blueprint("recorder_plain", __name__, url_prefix="/recorder-plain")


@plain_bp.route("/")
def plain():
    return "plain page"


api_bp = ApiBlueprint("recorder_api", __name__, url_prefix="/api/v1/<tenant>/recorder")


class PingSchema(ma.Schema):
    plugin = ma.fields.String(required=True)


@api_bp.route("/ping")
@api_bp.response(200, PingSchema)
def ping():
    return {"plugin": "recorder"}


@click.command("recorder-hello")
def hello():
    click.echo("hello from the recorder")


@hookimpl
def plugin_info():
    return {"title": "Recorder", "description": "Records hook calls"}


@hookimpl
def blueprints():
    return [bp, plain_bp]


@hookimpl
def api_blueprints():
    return [api_bp]


@hookimpl
def template_folders():
    return [str(HERE / "templates")]


@hookimpl
def static_folders():
    return {"recorder": str(HERE / "static")}


@hookimpl
def translation_folders():
    return [str(HERE / "translations")]


@hookimpl
def cli_commands():
    return [hello]


@hookimpl
def migration_branches():
    return [MigrationBranch("recorder", str(HERE / "migrations"), ())]


@hookimpl
def nav_items(tenant, user):
    calls.append(("nav_items", (tenant.slug, user.email)))
    return [NavItem("Recorder nav", "recorder.page", order=55)]


@hookimpl
def dashboard_panels(tenant, user):
    calls.append(("dashboard_panels", (tenant.slug,)))
    return [Panel("Recorder dashboard panel", "recorder/panel.html", {"where": "dashboard"})]


@hookimpl
def cluster_panels(cluster, user):
    calls.append(("cluster_panels", (cluster.name,)))
    return [Panel("Recorder cluster panel", "recorder/panel.html", {"where": cluster.name})]


@hookimpl
def check_permission(user, action, obj):
    if action == "recorder.poke":
        return user.email.startswith("coord")
    return None


@hookimpl
def tenant_created(tenant):
    calls.append(("tenant_created", (tenant.slug,)))


@hookimpl
def cluster_created(cluster, user):
    calls.append(("cluster_created", (cluster.name,)))


@hookimpl
def cluster_updated(cluster, changes, user):
    calls.append(("cluster_updated", (cluster.name, tuple(sorted(changes)))))


@hookimpl
def member_added(member, user):
    calls.append(("member_added", (member.name,)))


@hookimpl
def demo_data(tenant):
    calls.append(("demo_data", (tenant.slug,)))


@hookimpl
def programme_panels(programme, user):
    return [Panel("Recorder programme panel", "recorder/panel.html", {"where": programme.name})]


@hookimpl
def programme_report_sections(programme, user, today):
    where = f"{programme.name} on {today.isoformat()}"
    return [Panel("Recorder report section", "recorder/panel.html", {"where": where})]


@hookimpl
def workshop_panels(workshop, user):
    return [Panel("Recorder workshop panel", "recorder/panel.html", {"where": workshop.title})]


@hookimpl
def plan_panels(plan, user):
    return [Panel("Recorder plan panel", "recorder/panel.html", {"where": plan.title})]


@hookimpl
def programme_saved(programme, created, changes, user):
    calls.append(("programme_saved", (programme.name, created, tuple(sorted(changes)))))


@hookimpl
def workshop_saved(workshop, created, changes, user):
    calls.append(("workshop_saved", (workshop.title, created, tuple(sorted(changes)))))


@hookimpl
def plan_saved(plan, created, changes, user):
    calls.append(("plan_saved", (plan.title, created, tuple(sorted(changes)))))


@hookimpl
def action_saved(action, created, changes, user):
    calls.append(("action_saved", (action.title, created, tuple(sorted(changes)))))


@hookimpl
def registration_changed(registration, user):
    calls.append(("registration_changed", (registration.status.value, registration.attended)))


@hookimpl
def workshop_ended(workshop):
    calls.append(("workshop_ended", (workshop.title,)))


@hookimpl
def indicator_sets():
    from portal.toolkit import IndicatorSet

    return [
        IndicatorSet.from_dict(
            {
                "id": "recorder-set",
                "version": "1",
                "title": "Recorder set",
                "groups": [{"id": "g", "name": "Group"}],
                "indicators": [
                    {
                        "id": "speed",
                        "group": "g",
                        "name": "Speed",
                        "max": 5,
                        "thresholds": {"green": 4, "yellow": 2},
                    }
                ],
            }
        )
    ]


@hookimpl
def round_saved(round, created, user):
    calls.append(("round_saved", (round.held_on.isoformat(), created)))


@hookimpl
def label_schemes():
    from portal.toolkit import LabelScheme, Level, RuleResult, Verdict

    def always(evidence, on):
        return RuleResult("always", "Always", Verdict.MET, "Met")

    return [
        LabelScheme(
            "recorder-scheme", "1", "Recorder scheme", (Level("only", "Only", (always,), 12),)
        )
    ]


@hookimpl
def comparison_kinds():
    from portal.toolkit import ComparisonKind

    def count_rounds(context):
        from portal.toolkit import latest_rounds

        indicator_set = context.indicator_set
        return len(latest_rounds(indicator_set.id, indicator_set.version))

    return [
        ComparisonKind(
            "recorder-count",
            "Rounds counted",
            count_rounds,
            "recorder/count.html",
            scope="forum",
            indicator_sets=("recorder-set",),
        )
    ]


@bp.route("/followup", methods=["POST"])
def followup():
    from flask import request

    from portal.toolkit import FINDING_FIELDS

    calls.append(("followup", tuple(request.form.get(f, "") for f in FINDING_FIELDS)))
    return "followed up"


@hookimpl
def followup_targets(tenant):
    from portal.toolkit import FollowupTarget

    calls.append(("followup_targets", (tenant.slug,)))
    return [FollowupTarget("recorder", "Record it", "recorder.followup", order=50)]


@hookimpl
def indicator_work(tenant, keys):
    from portal.toolkit import IndicatorWork

    calls.append(("indicator_work", (tenant.slug, tuple(keys))))
    return [
        IndicatorWork(
            "recorded",
            7,
            "Recorded work",
            key,
            frozenset(RECORDED_WORK_CLUSTERS),
            "done",
            None,
            None,
        )
        for key in keys
    ]


RECORDED_WORK_CLUSTERS: set[int] = set()  # the clusters the recorded work names (tests set it)


@hookimpl
def reminders(tenant, today):
    from sqlalchemy import select

    from portal.toolkit import DigestItem, User, db, in_locale, reminder_link

    calls.append(("reminders", (tenant.slug, today.isoformat())))
    found = []
    for user in db.session.scalars(select(User).order_by(User.id)):
        with in_locale(user.locale or "en"):
            link = reminder_link("recorder.page", tenant)
        key = f"recorder:{tenant.id}:{user.id}:{today}"
        found.append(DigestItem(user.id, "Recorder", "Recorded item", link=link, key=key))
    return found
