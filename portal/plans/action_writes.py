"""Writing a checked file of actions (:mod:`portal.plans.action_import`) into a plan, and the
plan's check-then-confirm importer (:mod:`portal.imports.service`).

Rows with the id of an action of this plan update it (only the columns the file has); rows
without an id add an action. With ``as_new`` the id column is ignored and every row adds an
action (to copy the actions of another plan).

Writing does not go through ``services.create_action`` / ``update_action``: they commit per
action, so a failure half-way would leave half the file written. Instead every row is
checked first with the same rules, then the rows are written with the models in ONE
transaction (the audit log is written by the flush listener in that transaction; optimistic
locking still applies through the version column), and only after the commit are the
``action_saved`` events emitted, as the services do. If the commit fails, it is rolled back
and nothing is written. The permission is ``plan.manage`` on the plan, which includes
``action.edit`` of each of its actions.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.events import apply_changes, emit
from portal.extensions import db
from portal.imports.kinds import register_import_kind, target_id, target_object
from portal.imports.service import Importer, check_and_write
from portal.imports.table import Problem
from portal.improvement.links import key_text, set_action_indicators
from portal.permissions import require
from portal.plans.action_import import ImportOutcome, ParsedRow, PreviewRow, check_file
from portal.plans.models import Action, ActionCluster, Plan

CHUNK = 500  # rows per flush while writing (one transaction for the whole file)


def _shown(value: Any) -> Any:
    """A value as the preview shows it (and the digest compares it)."""
    if hasattr(value, "value"):  # an enum: its code
        return value.value
    return value


def _details(action: Action | None, row: ParsedRow, names) -> list[tuple[str, Any, Any]]:
    details = []
    for key, value in row.values.items():
        before = getattr(action, key) if action is not None else None
        if action is None or before != value:
            details.append((key, _shown(before), _shown(value)))
    if row.cluster_ids is not None:
        after = sorted(names.get(i, str(i)) for i in row.cluster_ids)
        before = sorted(c.name for c in action.clusters) if action is not None else None
        if action is None or after != before:
            details.append(("clusters", before, after))
    if row.indicator_keys is not None:
        after = sorted(map(key_text, row.indicator_keys))
        before = sorted(key_text(link.key) for link in action.indicators) if action else None
        if (action is None and after) or (action is not None and after != before):
            details.append(("indicators", before, after))
    return details


def _preview(rows: list[ParsedRow], checker) -> list[PreviewRow]:
    names = dict(db.session.execute(select(Cluster.id, Cluster.name)).all())
    preview = []
    for row in rows:
        if row.action_id is None:
            details = _details(None, row, names)
            preview.append(PreviewRow(row.line, "new", row.title, [], details))
            continue
        action = checker.actions[row.action_id]
        details = _details(action, row, names)
        changed = [column for column, _before, _after in details]
        preview.append(
            PreviewRow(
                row.line,
                "update" if changed else "unchanged",
                row.values.get("title", action.title),
                changed,
                details,
            )
        )
    return preview


def check(user: User | None, plan: Plan, raw: bytes, as_new: bool, progress=None) -> ImportOutcome:
    """Read and check a file; nothing is written."""
    if user is not None:
        require(user, "plan.manage", plan)
    rows, errors, checker = check_file(plan, raw, as_new=as_new, progress=progress)
    if errors or checker is None:
        return ImportOutcome([], errors)
    return ImportOutcome(_preview(rows, checker), [], parsed=rows, checker=checker)


def write(user: User | None, plan: Plan, outcome: ImportOutcome, progress=None) -> ImportOutcome:
    """Write a checked outcome in one transaction; tell plugins after the commit."""
    try:
        with progress("writing", len(outcome.parsed)) if progress else nullcontext() as bar:
            events = _write(plan, outcome.parsed, outcome.checker, bar)
    except SQLAlchemyError as exc:
        db.session.rollback()
        message = _("The import failed and nothing was written. Try again.")
        if type(exc).__name__ == "StaleDataError":
            message = _(
                "Someone changed an action of this plan during the import; nothing was "
                "written. Try again."
            )
        outcome.errors.append(Problem(None, None, message))
        return outcome
    outcome.written = True
    for action, created, changes in events:
        emit(
            "action_saved",
            plan.tenant_id,
            action=action,
            created=created,
            changes=changes,
            user=user,
        )
    return outcome


def planned(outcome: ImportOutcome) -> list[Any]:
    return [[r.line, r.kind, r.title, r.details] for r in outcome.rows]


def describe(outcome: ImportOutcome) -> str:
    return _(
        "The file is imported. New actions: %(created)d, changed: %(updated)d.",
        created=outcome.created,
        updated=outcome.updated,
    )


def importer(user: User | None, plan: Plan, as_new: bool = False, progress=None) -> Importer:
    """The plan's check-then-confirm importer; ``progress`` as the rounds import's (a job)."""
    return Importer(
        "actions",
        lambda raw, options: check(user, plan, raw, bool(options.get("as_new", as_new)), progress),
        lambda outcome, _options: write(user, plan, outcome, progress),
        planned,
        describe,
    )


def _plan_of(target: str) -> Plan:
    return target_object(Plan, target, "plan")


def _job_importer(user: User, target: str, progress) -> Importer:
    """In a job: the plan's importer, as long as the uploader may still manage the plan."""
    plan = _plan_of(target)
    require(user, "plan.manage", plan)
    return importer(user, plan, progress=progress)


# A large file (portal.imports.jobs.job_rows) is written by a job with a progress page.
register_import_kind(
    "actions",
    page=lambda target: url_for("spreadsheets.plan_import", plan_id=target_id(target, "plan")),
    back=lambda target: (
        _("Back to the plan"),
        url_for("plans.detail", plan_id=_plan_of(target).id),
    ),
    job=lambda user, _tenant_id, progress, target: _job_importer(user, target, progress),
)


def import_actions(
    user: User | None, plan: Plan, raw: bytes, *, dry_run: bool = False, as_new: bool = False
) -> ImportOutcome:
    """Create and update the plan's actions from a CSV or XLSX file: every row or none (the
    check and the write at once, for callers without a page)."""
    return check_and_write(importer(user, plan, as_new), raw, {"as_new": as_new}, dry_run=dry_run)


def _write(plan: Plan, rows: list[ParsedRow], checker, bar=None) -> list[tuple[Action, bool, dict]]:
    """All rows in one transaction, flushed every :data:`CHUNK` rows; returns what to tell
    plugins after the commit."""
    events: list[tuple[Action, bool, dict]] = []
    new: list[tuple[Action, ParsedRow]] = []
    for done, row in enumerate(rows, start=1):
        if done % CHUNK == 0:
            db.session.flush()
            if bar is not None:
                bar.update(CHUNK)
        if row.action_id is None:
            action = Action(tenant_id=plan.tenant_id, plan_id=plan.id, **row.values)
            db.session.add(action)
            new.append((action, row))
            continue
        action = checker.actions[row.action_id]
        changes = apply_changes(action, row.values)
        if row.cluster_ids is not None:
            before = sorted(c.id for c in action.clusters)
            if sorted(row.cluster_ids) != before:
                _set_clusters(action, before, row.cluster_ids)
                changes["clusters"] = (before, sorted(row.cluster_ids))
        if row.indicator_keys is not None:
            linked = set_action_indicators(action, row.indicator_keys)
            if linked is not None:
                changes["indicators"] = linked
        if changes:
            events.append((action, False, changes))
    db.session.flush()
    default = [plan.cluster_id] if plan.cluster_id is not None else []
    for action, row in new:
        ids = row.cluster_ids if row.cluster_ids is not None else default
        db.session.add_all(
            ActionCluster(tenant_id=plan.tenant_id, action_id=action.id, cluster_id=cluster_id)
            for cluster_id in ids
        )
        if row.indicator_keys:
            set_action_indicators(action, row.indicator_keys)
    if bar is not None:
        bar.update(len(rows) % CHUNK)
    db.session.commit()
    return [(action, True, {}) for action, _row in new] + events


def _set_clusters(action: Action, before: list[int], wanted: list[int]) -> None:
    if set(before) - set(wanted):
        for link in db.session.scalars(
            select(ActionCluster).where(
                ActionCluster.action_id == action.id,
                ActionCluster.cluster_id.in_(set(before) - set(wanted)),
            )
        ):
            db.session.delete(link)
    db.session.add_all(
        ActionCluster(tenant_id=action.tenant_id, action_id=action.id, cluster_id=cluster_id)
        for cluster_id in set(wanted) - set(before)
    )
