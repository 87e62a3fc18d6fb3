"""``portal labels check``: a cluster's eligibility for each level of a label scheme."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import click
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from portal.cli.database import needs_database
from portal.cli.people import _tenant
from portal.clusters.models import Cluster
from portal.config import SUPPORTED_LOCALES
from portal.extensions import db
from portal.labels import services
from portal.labels.services import Check
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant

VERDICT_MARKS = {"met": "✔", "not_met": "✘", "needs_evidence": "?"}


def _cluster(tenant: Tenant, key: str) -> Cluster:
    """A cluster of the region by id or exact name."""
    stmt = select(Cluster).where(Cluster.name == key)
    if key.isdigit():
        stmt = select(Cluster).where((Cluster.id == int(key)) | (Cluster.name == key))
    cluster = db.session.scalars(stmt.order_by(Cluster.id)).first()
    if cluster is None:
        sys.exit(f"no cluster {key!r} in {tenant.slug}")
    return cluster


def check_as_dict(tenant: Tenant, cluster: Cluster, result: Check) -> dict[str, Any]:
    """The check as plain data (also what a JSON API would answer)."""
    scheme = result.scheme
    return {
        "tenant": tenant.slug,
        "cluster": {"id": cluster.id, "name": cluster.name},
        "scheme": {"id": scheme.id, "version": scheme.version, "title": str(scheme.title)},
        "on": result.on.isoformat(),
        # the labels of the scheme held on the day, lowest level first
        "held": [
            {
                "level": level.id,
                "name": str(level.name),
                "awarded_on": label.awarded_on.isoformat(),
                "expires_on": label.expires_on.isoformat(),
            }
            for level, label in result.held_labels
        ],
        "next_level": result.next_level,
        "levels": [
            {
                "id": level.level.id,
                "name": str(level.level.name),
                "validity_months": level.level.validity_months,
                "eligible": level.eligible,
                "rules": [
                    {
                        "rule": r.rule,
                        "title": str(r.title),
                        "verdict": str(r.verdict),
                        "reason": str(r.reason),
                        "indicators": list(r.indicators),
                    }
                    for r in level.results
                ],
            }
            for level in result.levels
        ],
    }


def as_text(data: dict[str, Any]) -> str:
    """The check for people, in the language in force: the labels held on the day with their
    expiry, then each level with each rule's verdict and reason."""
    from flask_babel import gettext as _

    from portal.formatting import format_date

    def day(iso: str) -> str:
        return format_date(date.fromisoformat(iso))

    verdicts = {"met": _("Met"), "not_met": _("Not met"), "needs_evidence": _("Needs evidence")}
    lines = [
        f"{data['cluster']['name']} · {data['scheme']['title']} {data['scheme']['version']}"
        f" · {day(data['on'])}"
    ]
    if data["held"]:
        lines.append(_("Labels held on %(date)s:", date=day(data["on"])))
        lines += [
            "  "
            + _(
                "%(level)s, awarded on %(awarded)s, valid until %(until)s",
                level=held["name"],
                awarded=day(held["awarded_on"]),
                until=day(held["expires_on"]),
            )
            for held in data["held"]
        ]
    else:
        lines.append(_("No label of this scheme is held on %(date)s.", date=day(data["on"])))
    for level in data["levels"]:
        state = _("eligible") if level["eligible"] else _("not eligible")
        nxt = "  " + _("(the next label)") if level["id"] == data["next_level"] else ""
        lines.append(f"\n{level['name']}: {state}{nxt}")
        for rule in level["rules"]:
            mark, verdict = VERDICT_MARKS[rule["verdict"]], verdicts[rule["verdict"]]
            lines.append(f"  {mark} {verdict}: {rule['title']}. {rule['reason']}")
    return "\n".join(lines)


@click.group("labels")
def labels_group() -> None:
    """Label schemes and labels."""


@labels_group.command("check")
@click.argument("tenant_slug")
@click.argument("cluster_key", metavar="CLUSTER")
@click.option("--scheme", "scheme_id", required=True, help="The id of a label scheme.")
@click.option("--scheme-version", default="", help="A version of it (default: the newest).")
@click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Check as on this day (YYYY-MM-DD; default: today).",
)
@click.option(
    "--locale",
    type=click.Choice(SUPPORTED_LOCALES),
    help="Language of the reasons (default: the region's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@needs_database
def labels_check(
    tenant_slug: str,
    cluster_key: str,
    scheme_id: str,
    scheme_version: str,
    on,
    locale: str | None,
    as_json: bool,
) -> None:
    """For each level of a scheme: is CLUSTER (id or name) of TENANT_SLUG eligible on the day,
    and each rule's verdict and reason; also the labels held on the day and their expiry.
    Only what happened up to the day counts. Exit code 0 when checked, 2 for unknown input."""
    tenant = _tenant(tenant_slug)
    day = on.date() if on else date.today()
    with tenant_scope(tenant.id):
        cluster = _cluster(tenant, cluster_key)
        if scheme_version:
            scheme = next(
                (
                    s
                    for s in services.current_schemes_all_versions(tenant.id)
                    if s.id == scheme_id and s.version == scheme_version
                ),
                None,
            )
        else:
            scheme = next(
                (s for s in services.current_schemes(tenant.id) if s.id == scheme_id), None
            )
        if scheme is None:
            known = ", ".join(s.id for s in services.current_schemes(tenant.id)) or "-"
            click.echo(
                f"no label scheme {scheme_id!r}{' ' + scheme_version if scheme_version else ''} "
                f"switched on in {tenant.slug} (known: {known})",
                err=True,
            )
            sys.exit(2)
        with (
            current_app.test_request_context(),
            force_locale(locale or tenant.default_locale or "en"),
        ):
            data = check_as_dict(tenant, cluster, services.check(scheme, cluster.id, day))
            text = None if as_json else as_text(data)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(text)
