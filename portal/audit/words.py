"""An audit entry in words: the one place that says what an entry means to a person.

The log keeps codes (``plan_action``, ``status: ["planned", "in_progress"]``, the e-mail of
who did it); histories, the audit log page and its CSV read them through :func:`describe`:
the object's name and each field's label and value in the reader's language ("Status:
Planned → In progress"), dates in the reader's language and the region's time zone, amounts in
the region's currency, and people by their names.

What an object type's fields are called, and how their values read, is registered here per
type (:func:`register_history_words`); the core registers its own below, plugins theirs
through ``portal.toolkit.register_history_words``. A field nobody registered reads as its
column name, capitalised, with its value as stored (dates still formatted).

Refused attempts (denied actions, failed sign-ins) stay in the audit log for coordinators
but are no part of an object's history: :func:`object_history` reads changes only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.formatting import format_date, format_datetime, format_money

# The kinds of entry that change an object: its history. Everything else (sign-ins, denied
# actions, failed sign-ins, retried messages) is for the audit log only.
CHANGE_ACTIONS = ("create", "update", "delete")
# Bookkeeping columns no history shows.
NEVER_SHOWN = frozenset({"id", "tenant_id", "version", "created_at", "updated_at"})
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


@dataclass(frozen=True)
class FieldWords:
    """How one field of an object reads.

    ``label``: its name (a lazy string). ``labels``: words for coded values (an enum's
    values). ``kind``: ``"text"``, ``"date"``, ``"datetime"``, ``"person"`` (a user id,
    shown as the person's name), ``"money"`` (the region's currency), ``"percent"`` (0-100),
    ``"number"``, or ``"hidden"`` (never shown). ``formatter``: a function of the stored
    value to its words, when none of these fit."""

    label: Any
    labels: Mapping[str, Any] | None = None
    kind: str = "text"
    formatter: Callable[[Any], str] | None = None


_OBJECT_NAMES: dict[str, Any] = {}
_FIELDS: dict[str, dict[str, FieldWords]] = {}


def register_history_words(
    object_type: str, name: Any = None, fields: Mapping[str, FieldWords] | None = None
) -> None:
    """Say how entries of ``object_type`` (a table name) read: ``name`` the object's kind
    ("Action"), ``fields`` a :class:`FieldWords` per column (added to earlier ones)."""
    if name is not None:
        _OBJECT_NAMES[object_type] = name
    _FIELDS.setdefault(object_type, {}).update(fields or {})


def object_name(object_type: str) -> str:
    if not object_type:
        return ""
    name = _OBJECT_NAMES.get(object_type)
    return str(name) if name is not None else object_type.replace("_", " ").capitalize()


def object_types() -> list[tuple[str, str]]:
    """(object type, its name) of every registered type, by name (the audit log's filter)."""
    return sorted(((t, str(n)) for t, n in _OBJECT_NAMES.items()), key=lambda pair: pair[1])


def field_words(object_type: str, key: str) -> FieldWords:
    words = _FIELDS.get(object_type, {}).get(key)
    return words or FieldWords(key.replace("_", " ").capitalize())


def _as_date(value: Any) -> date | datetime | Any:
    if isinstance(value, str) and ISO_MOMENT.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, str) and ISO_DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def value_words(words: FieldWords, value: Any, people: Mapping[int, str]) -> str:
    """A stored (JSON) value as the reader reads it."""
    if value is None or value == "" or value == []:
        return "–"
    if words.kind == "hidden":
        return ""
    if words.formatter is not None:
        return words.formatter(value)
    if isinstance(value, list):
        return ", ".join(value_words(words, v, people) for v in value)
    if words.labels is not None and str(value) in words.labels:
        return str(words.labels[str(value)])
    if words.kind == "person":
        return people.get(value, _("someone no longer registered"))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    number = _number(value) if words.kind in {"money", "percent", "number"} else None
    if number is not None and words.kind == "money":
        return format_money(number)
    if number is not None and words.kind == "percent":
        return format_percent(number / 100)
    if number is not None:
        return format_decimal(number)
    moment = _as_date(value)
    if isinstance(moment, datetime):
        return format_datetime(moment, "short")
    if isinstance(moment, date):
        return format_date(moment, "medium")
    return str(value)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass
class EntryWords:
    """One audit entry as words (``entry`` the entry itself)."""

    entry: AuditEntry
    who: str
    event: str
    object: str
    changes: list[Change] = field(default_factory=list)

    @property
    def changes_text(self) -> str:
        return "; ".join(f"{c.label}: {c.before} → {c.after}" for c in self.changes)


def _person_ids(entries: Iterable[AuditEntry]) -> set[int]:
    ids: set[int] = set()
    for entry in entries:
        if entry.user_id:
            ids.add(entry.user_id)
        fields = _FIELDS.get(entry.object_type, {})
        for key, value in (entry.changes or {}).items():
            if fields.get(key, FieldWords("")).kind != "person":
                continue
            pair = value if entry.action == "update" and isinstance(value, list) else [value]
            ids.update(v for v in pair if isinstance(v, int))
    return ids


def people_names(ids: Iterable[int]) -> dict[int, str]:
    """Names of the people with these ids, in one query (asked even for none, so that a
    page's query count does not depend on who did what)."""
    from portal.accounts.models import User

    ids = sorted(set(ids))
    rows = db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {row.id: row.name or row.email for row in rows}


def _who(entry: AuditEntry, people: Mapping[int, str], addresses: bool) -> str:
    if entry.user_id in people:
        return people[entry.user_id]
    if entry.actor in {"", "system"}:
        return _("The portal")
    if "@" in (entry.actor or "") and not addresses:
        return _("someone no longer registered")
    if not addresses:
        return _("The portal")  # a command or scheduled job ("close-ended-workshops")
    return entry.actor  # a command-line actor, or the address a failed sign-in typed


def _changes(entry: AuditEntry, people: Mapping[int, str]) -> list[Change]:
    if entry.action != "update":
        return []
    result = []
    for key, pair in (entry.changes or {}).items():
        if key in NEVER_SHOWN or not isinstance(pair, list) or len(pair) != 2:
            continue
        words = field_words(entry.object_type, key)
        if words.kind == "hidden":
            continue
        result.append(
            Change(
                str(words.label),
                value_words(words, pair[0], people),
                value_words(words, pair[1], people),
            )
        )
    return result


def describe(entries: Iterable[AuditEntry], *, addresses: bool = False) -> list[EntryWords]:
    """The entries in words, with one query for the people they name. ``addresses``: an
    actor no longer registered is shown by the address recorded (the audit log, for its
    readers), else as "someone no longer registered" (histories)."""
    from portal.i18n import AUDIT_ACTION_LABELS

    entries = list(entries)
    people = people_names(_person_ids(entries))
    return [
        EntryWords(
            entry=entry,
            who=_who(entry, people, addresses),
            event=str(AUDIT_ACTION_LABELS.get(entry.action, entry.action)),
            object=object_name(entry.object_type),
            changes=_changes(entry, people),
        )
        for entry in entries
    ]


def object_history(
    tenant_id: int, object_type: str, object_id: int, limit: int = 100
) -> list[EntryWords]:
    """An object's history in words, newest first: its changes only, never refused
    attempts."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.tenant_id == tenant_id,
            AuditEntry.object_type == object_type,
            AuditEntry.object_id == object_id,
            AuditEntry.action.in_(CHANGE_ACTIONS),
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return describe(entries)


def _indicator_names(value: Any) -> str:
    """Linked indicators (stored as ``set/version/indicator``) by their names in the reader's
    language; one whose set is no longer installed by its id (no query: the installed sets)."""
    from flask_babel import get_locale

    from portal.improvement.links import describe as describe_indicators
    from portal.improvement.links import parse_key

    texts = [str(v) for v in (value if isinstance(value, list) else [value])]
    keys = [parse_key(text) for text in texts]
    found = describe_indicators([k for k in keys if k], str(get_locale() or "en"))
    return ", ".join(
        found[key].name if key in found else text for text, key in zip(texts, keys, strict=True)
    )


def _register_core() -> None:
    from portal.i18n import (
        ACTION_STATUS_LABELS,
        MEMBER_TYPE_LABELS,
        PLAN_KIND_LABELS,
        PRIORITY_LABELS,
        ROLE_LABELS,
    )

    text, day = FieldWords, (lambda label: FieldWords(label, kind="date"))
    register_history_words(
        "plan_action",
        _l("Action"),
        {
            "title": text(_l("Title")),
            "description": text(_l("Description")),
            "plan_id": FieldWords(_l("Plan"), kind="hidden"),
            "owner_id": FieldWords(_l("Owner"), kind="person"),
            "start_date": day(_l("Starts")),
            "due_date": day(_l("Due")),
            "status": FieldWords(_l("Status"), labels=ACTION_STATUS_LABELS),
            "progress": FieldWords(_l("Progress"), kind="percent"),
            "priority": FieldWords(_l("Priority"), labels=PRIORITY_LABELS),
            "weight": FieldWords(_l("Weight"), kind="number"),
            "workshop_id": text(_l("Decided at")),
            "planned_hours": FieldWords(_l("Hours planned"), kind="number"),
            "spent_hours": FieldWords(_l("Hours spent"), kind="number"),
            "planned_money": FieldWords(_l("Money planned"), kind="money"),
            "spent_money": FieldWords(_l("Money spent"), kind="money"),
            "clusters": text(_l("Responsible clusters")),
            "indicators": FieldWords(
                _l("Indicators it aims to improve"), formatter=_indicator_names
            ),
        },
    )
    register_history_words(
        "plan",
        _l("Plan"),
        {
            "title": text(_l("Title")),
            "kind": FieldWords(_l("Kind"), labels=PLAN_KIND_LABELS),
            "start_date": day(_l("Starts")),
            "end_date": day(_l("Ends")),
            "goals": text(_l("Goals")),
            "focus_areas": text(_l("Focus areas")),
        },
    )
    register_history_words(
        "action_comment",
        _l("Comment"),
        {
            "body": text(_l("Comment")),
            "action_id": FieldWords(_l("Action"), kind="hidden"),
            "author_id": FieldWords(_l("Author"), kind="person"),
            "mentioned": text(_l("Told")),
            "edited_at": FieldWords(_l("Edited"), kind="datetime"),
            "hidden_at": FieldWords(_l("Hidden"), kind="datetime"),
            "hidden_by_id": FieldWords(_l("Hidden by"), kind="person"),
        },
    )
    register_history_words(
        "cluster",
        _l("Cluster"),
        {"name": text(_l("Name")), "sector": text(_l("Sector"))},
    )
    register_history_words(
        "member_organisation",
        _l("Member organisation"),
        {
            "name": text(_l("Name")),
            "member_type": FieldWords(_l("Type"), labels=MEMBER_TYPE_LABELS),
            "city": text(_l("City")),
        },
    )
    register_history_words(
        "membership",
        _l("Membership"),
        {
            "role": FieldWords(_l("Role"), labels=ROLE_LABELS),
            "user_id": FieldWords(_l("Person"), kind="person"),
            "active": text(_l("Active")),
        },
    )
    for object_type, name in (
        ("programme", _l("Programme")),
        ("workshop", _l("Workshop")),
        ("tenant", _l("Region")),
        ("user_account", _l("Person")),
        ("benchmark_round", _l("Benchmarking round")),
        ("label", _l("Label")),
        ("stored_file", _l("File")),
        ("invitation", _l("Invitation")),
        ("webhook", _l("Webhook")),
    ):
        register_history_words(object_type, name)


_register_core()
