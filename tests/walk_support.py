"""Every URL of a region built with the region's own ids: for the walks that look at every
page (privacy markers, generated requests). A new kind of id in a URL needs one line in
``ID_SOURCES``; the walks fail until it has one."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from portal.extensions import db

# Where the ids of each kind of URL argument come from (table, the tenant's rows).
ID_SOURCES = {
    "cluster_id": "cluster",
    "round_id": "benchmark_round",
    "member_id": "member_organisation",
    "membership_id": "membership",
    "programme_id": "programme",
    "participant_id": "programme_cluster",
    "plan_id": "plan",
    "action_id": "plan_action",
    "workshop_id": "workshop",
    "file_id": "stored_file",
    "part_id": "joint_participation",
    "joint_action_id": "joint_action",
    "message_id": "outbox_message",
    "portfolio_id": "compare_reference",
    "invitation_id": "invitation",
    "invite_id": "workshop_invite",
    "item_id": "agenda_item",
    "milestone_id": "milestone",
    "figure_id": "facts_key_figure",
    "question_id": "registration_question",
    "request_id": "workshop_seat_request",
    "planned_id": "planned_assessment",
    "webhook_id": "webhook",
    "delivery_id": "webhook_delivery",
    "comment_id": "action_comment",
    "job_id": "import_job",
    "notification_id": "notification",
    "subject_id": "plan",  # what a person follows (programme, plan, action, workshop)
}
SKIP = {"static", "auth.logout", "main.plugin_static"}


def own_ids(tenant_id: int) -> dict[str, list[int]]:
    from portal.tenancy import unscoped

    found = {}
    with unscoped():
        for arg, table_name in ID_SOURCES.items():
            table = db.metadata.tables.get(table_name)
            if table is None:  # a plugin that is not installed
                found[arg] = []
                continue
            stmt = select(table.c.id).order_by(table.c.id)
            if "tenant_id" in table.c:
                stmt = stmt.where(table.c.tenant_id == tenant_id)
            found[arg] = list(db.session.execute(stmt).scalars())
    return found


def int_arguments(rule) -> list[str]:
    fixed = rule.defaults or {}  # e.g. the format a URL implies
    return [
        a
        for a in rule.arguments
        if a not in fixed and isinstance(rule._converters[a], IntegerConverter)
    ]


def region_urls(
    app, tenant_id: int, slug: str, method: str = "GET", every_combination: bool = True
) -> list[tuple[object, str]]:
    """(rule, URL) for every route of the region answering ``method``: with every
    combination of the region's own ids, or only the first of each kind."""
    with app.test_request_context():
        ids = own_ids(tenant_id)
        adapter = app.url_map.bind("localhost")
        urls = []
        for rule in app.url_map.iter_rules():
            if method not in rule.methods or rule.endpoint in SKIP:
                continue
            if "tenant" not in rule.arguments:
                continue
            numbered = int_arguments(rule)
            unknown = [a for a in numbered if a not in ID_SOURCES]
            assert not unknown, f"{rule.endpoint}: add {unknown} to ID_SOURCES"
            fixed = rule.defaults or {}
            strings = {a: "x" for a in rule.arguments if a not in numbered and a not in fixed} | {
                "tenant": slug
            }
            choices = [ids[a] if every_combination else ids[a][:1] for a in numbered]
            for combo in itertools.product(*choices):
                values = dict(strings, **dict(zip(numbered, combo, strict=True)))
                urls.append((rule, adapter.build(rule.endpoint, values)))
    return urls
