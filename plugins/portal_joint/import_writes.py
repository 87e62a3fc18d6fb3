"""Writing a checked file of joint actions (:mod:`portal_joint.action_import`) into a
programme, what its preview shows, and the check-then-confirm importer (toolkit
``Importer``).

Writing does not go through :mod:`portal_joint.services`, which commit per change: every row
is checked first with the same rules, then everything is written in ONE transaction (the
changed joint actions and contributions get a new version, so an open form is refused as
stale), and the people a joint action concerns get the usual notices. If the commit fails,
nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.toolkit import Cluster, Importer, ImportProblem, User, _, db
from portal_joint.action_import import ImportOutcome, PlannedAction, check_file
from portal_joint.models import JointAction, JointStatus, Participation, PartStatus
from portal_joint.services import _notify

# The file's column of each value, as the preview names what changes.
ACTION_NAMES = {
    "title": "title",
    "status": "status",
    "aim": "aim",
    "lead_user_id": "lead_email",
    "lead_cluster_id": "lead_cluster",
    "start_date": "start_date",
    "due_date": "due_date",
    "budget_money": "budget_money",
    "budget_hours": "budget_hours",
}
PART_NAMES = {
    "joined_on": "joined_on",
    "left_on": "left_on",
    "tasks": "tasks",
    "owner_id": "owner_email",
    "status": "part_status",
    "progress": "part_progress",
    "hours_spent": "hours_spent",
    "money_spent": "money_spent",
    "solo_hours": "solo_hours",
    "solo_money": "solo_money",
}


@dataclass
class PreviewAction:
    line: int
    kind: str  # "new", "update" or "unchanged"
    title: str
    action_id: int | None
    # (column, before, after) of what is written; before is None for a new action
    details: list[tuple[str, Any, Any]] = field(default_factory=list)
    # (cluster, "new"/"update"/"unchanged", [(column, before, after)])
    parts: list[tuple[str, str, list[tuple[str, Any, Any]]]] = field(default_factory=list)


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, Decimal) or isinstance(after, Decimal):
        if before is None or after is None:
            return before is after
        return Decimal(str(before)) == Decimal(str(after))
    return before == after


def _shown(value: Any, emails: dict[int, str], names: dict[int, str], column: str) -> Any:
    """A value as the preview shows it (and the digest compares it)."""
    if value is None:
        return None
    if column in ("lead_email", "owner_email"):
        return emails.get(value, str(value))
    if column == "lead_cluster":
        return names.get(value, str(value))
    if hasattr(value, "value"):  # a status: its id
        return value.value
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        number = Decimal(str(value))
        return str(
            number.quantize(1) if number == number.to_integral_value() else number.normalize()
        )
    return value if isinstance(value, str) else str(value)


def _details(obj, values: dict[str, Any], columns: dict[str, str], emails, names):
    details = []
    for key, value in values.items():
        column = columns[key]
        before = getattr(obj, key) if obj is not None else None
        if obj is None or not _same(before, value):
            details.append(
                (
                    column,
                    _shown(before, emails, names, column),
                    _shown(value, emails, names, column),
                )
            )
    return details


def preview(outcome: ImportOutcome) -> list[PreviewAction]:
    ids = {v for a in outcome.actions for v in _people(a)}
    emails = dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())
    names = dict(db.session.execute(select(Cluster.id, Cluster.name)).all())
    shown = []
    for planned in outcome.actions:
        action = planned.action
        details = _details(action, planned.values, ACTION_NAMES, emails, names)
        parts = []
        for p in planned.parts:
            part_details = _details(p.part, p.values, PART_NAMES, emails, names)
            kind = "new" if p.part is None else ("update" if part_details else "unchanged")
            parts.append((p.cluster_name, kind, part_details))
        if action is None:
            kind = "new"
        else:
            kind = (
                "update" if details or any(k != "unchanged" for _n, k, _d in parts) else "unchanged"
            )
        shown.append(
            PreviewAction(
                planned.line, kind, planned.title, action.id if action else None, details, parts
            )
        )
    return shown


def _people(planned: PlannedAction):
    for values, obj, key in [(planned.values, planned.action, "lead_user_id")] + [
        (p.values, p.part, "owner_id") for p in planned.parts
    ]:
        for value in (values.get(key), getattr(obj, key, None) if obj is not None else None):
            if value:
                yield value


def planned(outcome: ImportOutcome) -> list[Any]:
    """What the preview shows and the confirm must write again."""
    return [[a.line, a.kind, a.title, a.action_id, a.details, a.parts] for a in outcome.preview]


def check(programme, raw: bytes, options: dict[str, Any]) -> ImportOutcome:
    outcome = check_file(programme, raw, as_new=bool(options.get("as_new")))
    if not outcome.errors:
        outcome.preview = preview(outcome)
    return outcome


def write(user, programme, outcome: ImportOutcome) -> ImportOutcome:
    """Write the checked joint actions and contributions in ONE transaction."""
    changed: list[tuple[JointAction, list[str]]] = []
    try:
        for planned_action in outcome.actions:
            changed.append(_write_action(programme, planned_action))
        db.session.flush()
        for action, columns in changed:
            if columns:
                _notify(action, user, "changed", ", ".join(sorted(columns)))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        message = _(
            "The import failed and nothing was written (perhaps someone changed one of the "
            "joint actions at the same time). Try again."
        )
        outcome.errors.append(ImportProblem(None, None, message))
        return outcome
    outcome.written = True
    return outcome


def _write_action(programme, planned: PlannedAction) -> tuple[JointAction, list[str]]:
    action = planned.action
    values = dict(planned.values)
    if action is None:
        status = values.pop("status", JointStatus.PROPOSED)
        action = JointAction(
            tenant_id=programme.tenant_id,
            programme_id=programme.id,
            origin="import",
            status=status,
            **values,
        )
        db.session.add(action)
        db.session.flush()
        columns = []
    else:
        columns = [k for k, v in values.items() if not _same(getattr(action, k), v)]
        for key in columns:
            setattr(action, key, values[key])
        if columns:
            action.version += 1
    for p in planned.parts:
        part = p.part
        if part is None:
            part_values = {"status": PartStatus.NOT_STARTED, **p.values}
            part = Participation(
                tenant_id=action.tenant_id,
                action_id=action.id,
                cluster_id=p.cluster_id,
                **part_values,
            )
            action.parts.append(part)
            if planned.action is not None:
                columns.append("clusters")
            continue
        part_changed = [k for k, v in p.values.items() if not _same(getattr(part, k), v)]
        for key in part_changed:
            setattr(part, key, p.values[key])
        if part_changed:
            part.version += 1
    return action, columns


KIND = "joint_actions"


def describe(outcome: ImportOutcome) -> str:
    shown = outcome.preview
    return _(
        "The file is imported. New joint actions: %(created)d, changed: %(updated)d.",
        created=sum(1 for a in shown if a.kind == "new"),
        updated=sum(1 for a in shown if a.kind == "update"),
    )


def importer(user, programme) -> Importer:
    """The programme's joint actions import; permissions are the caller's (the page requires
    ``joint.create`` on the programme: coordinators)."""
    return Importer(
        KIND,
        lambda raw, options: check(programme, raw, options),
        lambda outcome, _options: write(user, programme, outcome),
        planned,
        describe,
    )
