"""Optimistic locking: one way for every editable object, in the core and in plugins.

A model that mixes in :class:`Versioned` has a ``version`` column that SQLAlchemy checks on
every UPDATE (``version_id_col``): the statement names the version the session read
(``... WHERE id = :id AND version = :read``), so a row someone else changed meanwhile matches
nothing and the flush raises ``StaleDataError`` instead of overwriting their change.

An edit form mixes in :class:`VersionedForm` (a hidden ``version``, filled from the object when
the form is built with ``obj=``). The view (or a service) wraps the whole write in
:func:`saving`::

    try:
        with saving(cluster, form):
            services.update_cluster(current_user, cluster, form.values())
    except ConflictError as exc:
        conflict = exc  # the page shows exc.rows; the form keeps what the user typed

``saving`` refuses a form that names an older version than the stored one before anything is
written, and its first flush writes the object's row in any case (the version goes up by one),
so a save that only changes related rows (an action's clusters, a round's values) is checked
too. A
``StaleDataError`` raised anywhere inside (an autoflush while related rows are set, or the
commit) is rolled back. Both become a :class:`~portal.errors.ConflictError` with the values now
stored (``current``; ``rows``: the form's labels with those values as shown) and the form's
version moves on to the stored one, so the user's input stays in the form and saving it again
overwrites knowingly. Pages answer 409; the app answers 409 for any ``ConflictError`` or
``StaleDataError`` no view caught (:mod:`portal.web.errors`), never 500.

An edit must name the version it was read at. A form whose ``version`` was not posted (or was
posted empty) is refused the same way, before anything is written: a 409 with the values now
stored and a message saying the form named no version (:func:`missing_version_message`), the
input kept and the form's version moved on, so saving again is a knowing overwrite. It is a 409
and not a 422 because what it lacks is not something the user typed (a hidden field they cannot
fix), but whether their edit was made on what is stored now; the conflict page is what shows them
exactly that, and every edit view already answers it. (Careful: a form built with ``obj=``
takes the object's version when none was posted, so the check reads what was posted.)
Only a caller that passes ``None`` (a service called by an import, the CLI, a test) names no
version on purpose and is not checked up front; a raw posted value is passed as ``""`` when
missing (``request.form.get("version", "")``). Creation forms have no object, so no
``saving``, and stay as they are.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Integer, event, inspect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import NotFound
from wtforms import HiddenField

from portal.errors import ConflictError
from portal.extensions import db
from portal.formatting import format_date, format_datetime

# Columns a conflict never shows: bookkeeping, not what anyone typed.
HIDDEN_COLUMNS = frozenset({"id", "tenant_id", "version", "created_at", "updated_at"})


class Versioned:
    """Mixin: a ``version`` column checked and raised by every UPDATE of the row."""

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


class VersionedForm:
    """Mixin for a FlaskForm: the version of the object the form was filled from."""

    version = HiddenField()


def is_versioned(model: type) -> bool:
    mapper = inspect(model, raiseerr=False)
    return mapper is not None and mapper.version_id_col is not None


def default_message() -> str:
    return _(
        "Someone else saved this while you edited it. Here is what it says now; check it "
        "and apply your change again."
    )


def missing_version_message() -> str:
    return _(
        "This form did not say which version you edited, so it was not saved. Here is what "
        "it says now; check your input below against it and save again."
    )


# What _expected answers for a form (or a posted value) that names no version.
MISSING: Any = object()


def _posted(form: Any) -> Any:
    """What the form's ``version`` field was posted with ('' when it was not posted): not its
    data, which a form built with ``obj=`` fills from the object when nothing was posted."""
    field = form.version
    if field.raw_data is None:  # built without form data: what it was given
        return "" if field.data is None else field.data
    return field.raw_data[0] if field.raw_data else ""


def _expected(version: Any) -> Any:
    """The version a form (or a caller) names: None when the caller names none on purpose
    (``None``), MISSING for a form or a posted value that names none."""
    if hasattr(version, "version") and not isinstance(version, int):
        version = _posted(version)
    if version is None:
        return None
    if isinstance(version, str) and not version.strip():
        return MISSING
    try:
        return int(version)
    except (TypeError, ValueError):
        return -1  # a version that is no number is stale: refused, never guessed


def current_values(obj: Any) -> dict[str, Any]:
    """The stored values of the object's columns (what a conflict shows)."""
    mapper = inspect(type(obj))
    return {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}


def _choice_label(choices: Any, value: Any) -> str | None:
    if isinstance(choices, dict):  # option groups
        choices = [c for group in choices.values() for c in group]
    for choice in choices or ():
        key, label = choice[0], choice[1]
        if str(key) == str(value):
            return str(label)
    return None


def shown(value: Any, field: Any = None) -> str:
    """A stored value as a person reads it (a choice's label, a date in their language)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or value == "":
        return "–"
    if isinstance(value, (list, tuple, set)):
        return ", ".join(shown(v, field) for v in value) or "–"
    if field is not None and getattr(field, "choices", None):
        label = _choice_label(field.choices, value)
        if label is not None:
            return label
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return format_datetime(value, "medium")
    if isinstance(value, date):
        return format_date(value, "medium")
    return str(value)


def conflict_rows(current: dict[str, Any], form: Any = None) -> list[tuple[str, str]]:
    """(label, value as shown) of the stored values: the form's fields in the form's order and
    with its labels; without a form, the columns."""
    if form is not None:
        return [
            (str(field.label.text), shown(current[field.name], field))
            for field in form
            if field.name in current and field.name not in HIDDEN_COLUMNS
        ]
    return [
        (key.replace("_", " ").capitalize(), shown(value))
        for key, value in current.items()
        if key not in HIDDEN_COLUMNS and not isinstance(value, bytes)
    ]


def conflict(
    obj: Any,
    form: Any = None,
    message: str | None = None,
    extra: dict[str, Any] | None = None,
    heading: str | None = None,
) -> ConflictError:
    """The refusal for a stale save of ``obj`` (as stored now); moves the form's version on.
    ``heading``: the notice's title when it is not "someone else changed this"."""
    current = current_values(obj) | (extra or {})
    if form is not None and hasattr(form, "version"):
        form.version.data = obj.version
        form.version.raw_data = [str(obj.version)]
    error = ConflictError(message or default_message(), current, heading)
    error.rows = conflict_rows(current, form)
    return error


def _refusal(
    obj: Any, expected: Any, message: str | None, missing_message: str | None
) -> dict[str, str | None] | None:
    """The refusal's message and heading, or None when ``expected`` names the stored version
    (or the caller named none)."""
    if expected is None or expected == obj.version:
        return None
    if expected is MISSING:
        return {
            "message": missing_message or missing_version_message(),
            "heading": _("Not saved: check what is stored now"),
        }
    return {"message": message, "heading": None}


def check_version(
    obj: Any,
    version: Any,
    *,
    form: Any = None,
    message: str | None = None,
    missing_message: str | None = None,
):
    """Refuse (ConflictError) when ``version`` (a number, or a form) is not the stored one,
    or a form (a posted ``""``) names none; the race after this check is refused by the
    version column (StaleDataError)."""
    if form is None and hasattr(version, "version") and not isinstance(version, int):
        form = version
    refusal = _refusal(obj, _expected(version), message, missing_message)
    if refusal is not None:
        raise conflict(obj, form, refusal["message"], heading=refusal["heading"])


@contextmanager
def saving(
    obj: Any,
    version: Any = None,
    *,
    form: Any = None,
    message: str | None = None,
    missing_message: str | None = None,
    extra=None,
) -> Iterator[None]:
    """Write ``obj`` (and whatever goes with it) checked against the version the user read.

    ``version`` is the form (with a ``version`` field) or the version number it carried (a
    posted ``""``: none, refused; ``None``: the caller names none, not checked up front);
    ``message`` tells a stale form, ``missing_message`` a form that named no version;
    ``extra`` (a callable taking ``obj``) adds values to show that are not columns of the
    object (e.g. its clusters)."""
    if form is None and hasattr(version, "version") and not isinstance(version, int):
        form = version

    def refuse(refusal=None) -> ConflictError:
        refusal = refusal or {"message": message, "heading": None}
        return conflict(
            obj,
            form,
            refusal["message"],
            extra(obj) if extra else None,
            heading=refusal["heading"],
        )

    refusal = _refusal(obj, _expected(version), message, missing_message)
    if refusal is not None:
        raise refuse(refusal)
    must_write = db.session.info.setdefault(_MUST_WRITE, [])
    must_write.append(obj)
    try:
        yield
    except StaleDataError:
        db.session.rollback()
        try:
            db.session.refresh(obj)
        except InvalidRequestError:  # deleted meanwhile: nothing left to save
            raise NotFound() from None
        raise refuse() from None
    finally:
        if obj in must_write:
            must_write.remove(obj)


_MUST_WRITE = "locking_must_write"


@event.listens_for(Session, "before_flush")
def _write_saved_rows(session: Session, _flush_context, _instances) -> None:
    """The first flush inside ``saving`` writes the object's row (its version goes up by
    one, checked against the version read) even when only related rows change, so that such a
    save is checked too. Nothing is written for a save refused before it flushed."""
    must_write = session.info.get(_MUST_WRITE)
    while must_write:
        obj = must_write.pop()
        written = obj not in session or obj in session.deleted
        if not written and not inspect(obj).attrs.version.history.has_changes():
            obj.version = obj.version + 1


def form_status(form: Any, conflict_error: ConflictError | None = None) -> int:
    """409 for a conflict, 422 for a form with errors, else 200."""
    if conflict_error is not None:
        return 409
    return 422 if form.errors else 200
