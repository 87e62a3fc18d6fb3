"""Registration questions a workshop's coordinators set (on site or online, dietary needs, free
questions; each required or not), and the registrants' answers.

Questions change until the workshop is over. Answers are stored as text per question
(:class:`RegistrationAnswers`), so a question's later change keeps what was answered; a
removed question keeps its answers stored, hidden everywhere.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.db import utcnow
from portal.errors import ServiceError
from portal.events import apply_changes
from portal.extensions import db
from portal.permissions import require
from portal.workshops import closing
from portal.workshops.models import Registration, Workshop
from portal.workshops.registration_models import (
    QuestionKind,
    RegistrationAnswers,
    RegistrationQuestion,
)

MAX_QUESTIONS = 20
MAX_OPTIONS = 20
OPTION_LIMIT = 200
LABEL_LIMIT = 300
ANSWER_LIMITS = {QuestionKind.DIETARY: 500, QuestionKind.TEXT: 1000}
ATTENDANCE_MODES = {"on_site": _l("On site"), "online": _l("Online")}
KIND_LABELS = {
    QuestionKind.ATTENDANCE_MODE: _l("On site or online"),
    QuestionKind.DIETARY: _l("Dietary needs"),
    QuestionKind.TEXT: _l("Free question: a text answer"),
    QuestionKind.CHOICE: _l("Free question: one of given options"),
}
DEFAULT_LABELS = {
    QuestionKind.ATTENDANCE_MODE: _l("Will you take part on site or online?"),
    QuestionKind.DIETARY: _l("Dietary needs (allergies, vegetarian, ...)"),
}


def label_of(question: RegistrationQuestion) -> str:
    """The question as asked: its own words, or the built-in ones in the reader's language."""
    if question.label:
        return question.label
    return str(DEFAULT_LABELS.get(question.kind, ""))


def choices_of(question: RegistrationQuestion) -> list[tuple[str, str]]:
    if question.kind == QuestionKind.ATTENDANCE_MODE:
        return [(code, str(label)) for code, label in ATTENDANCE_MODES.items()]
    return [(option, option) for option in question.option_list]


def shown_answer(question: RegistrationQuestion, value: str | None) -> str:
    """An answer as a person reads it (on site/online in their language)."""
    if not value:
        return ""
    if question.kind == QuestionKind.ATTENDANCE_MODE and value in ATTENDANCE_MODES:
        return str(ATTENDANCE_MODES[value])
    return value


def questions_of(workshop_id: int) -> list[RegistrationQuestion]:
    """The workshop's questions (not removed), in their order (one query)."""
    return list(
        db.session.scalars(
            select(RegistrationQuestion)
            .where(
                RegistrationQuestion.workshop_id == workshop_id,
                RegistrationQuestion.removed_at.is_(None),
            )
            .order_by(RegistrationQuestion.position, RegistrationQuestion.id)
        )
    )


def editable(workshop: Workshop) -> bool:
    """Questions and answers change until the workshop is over (by the real clock)."""
    return workshop.ended_at is None and not closing.is_over(
        workshop, closing.zone_of(workshop.tenant_id)
    )


def _require_editable(workshop: Workshop) -> None:
    if not editable(workshop):
        raise ServiceError(_("This workshop is over: its registration can no longer change."))


# --- the coordinators' questions --------------------------------------------------------


def _refuse(field: str, message: str) -> None:
    raise ServiceError(message, {field: [message]})


def _clean(values: dict[str, Any], kind: QuestionKind) -> dict[str, Any]:
    """The question's values checked and tidied: a free question needs its words, a choice
    two or more different options."""
    label = (values.get("label") or "").strip()
    if len(label) > LABEL_LIMIT:
        _refuse("label", _("At most %(n)d characters.", n=LABEL_LIMIT))
    if kind in (QuestionKind.TEXT, QuestionKind.CHOICE) and not label:
        _refuse("label", _("Write the question."))
    options: list[str] = []
    if kind == QuestionKind.CHOICE:
        for line in (values.get("options") or "").splitlines():
            option = line.strip()
            if option and option not in options:
                options.append(option)
        if len(options) < 2:
            _refuse("options", _("Give at least two options, one a line."))
        if len(options) > MAX_OPTIONS:
            _refuse("options", _("At most %(n)d options.", n=MAX_OPTIONS))
        if any(len(option) > OPTION_LIMIT for option in options):
            _refuse("options", _("An option has at most %(n)d characters.", n=OPTION_LIMIT))
    return {"label": label, "options": "\n".join(options), "required": bool(values.get("required"))}


def add_question(
    user: User | None, workshop: Workshop, data: dict[str, Any]
) -> RegistrationQuestion:
    if user is not None:
        require(user, "workshop.manage", workshop)
    _require_editable(workshop)
    try:
        kind = QuestionKind(data.get("kind"))
    except ValueError:
        _refuse("kind", _("Choose a kind of question."))
    values = _clean(data, kind)
    present = questions_of(workshop.id)
    if len(present) >= MAX_QUESTIONS:
        raise ServiceError(_("A workshop asks at most %(n)d questions.", n=MAX_QUESTIONS))
    last = db.session.scalar(
        select(func.max(RegistrationQuestion.position)).where(
            RegistrationQuestion.workshop_id == workshop.id
        )
    )
    question = RegistrationQuestion(
        tenant_id=workshop.tenant_id,
        workshop_id=workshop.id,
        kind=kind,
        position=(last or 0) + 1,
        **values,
    )
    db.session.add(question)
    db.session.commit()
    return question


def update_question(
    user: User | None, workshop: Workshop, question: RegistrationQuestion, data: dict[str, Any]
) -> dict:
    """Change the words, options or whether it is required; answers given stay as they were.
    The kind stays: answers of one kind would not fit another."""
    if user is not None:
        require(user, "workshop.manage", workshop)
    _require_editable(workshop)
    changes = apply_changes(question, _clean(data, question.kind))
    db.session.commit()
    return changes


def remove_question(user: User | None, workshop: Workshop, question: RegistrationQuestion) -> None:
    """Removed: no longer asked, and its answers are no longer shown (they stay stored)."""
    if user is not None:
        require(user, "workshop.manage", workshop)
    _require_editable(workshop)
    if question.removed_at is None:
        question.removed_at = utcnow()
    db.session.commit()


# --- answers ----------------------------------------------------------------------------


def answers_row(registration_id: int) -> RegistrationAnswers | None:
    return db.session.scalar(
        select(RegistrationAnswers).where(RegistrationAnswers.registration_id == registration_id)
    )


def clean_answers(questions: list[RegistrationQuestion], given: dict[str, Any]) -> dict[str, str]:
    """Only answers to the questions asked, as text within the limits (the form checked them;
    this keeps a caller without a form from storing anything else)."""
    clean = {}
    for question in questions:
        value = given.get(str(question.id))
        if value is None:
            continue
        value = str(value).strip()[: ANSWER_LIMITS.get(question.kind, OPTION_LIMIT)]
        clean[str(question.id)] = value
    return clean


def store_answers(registration: Registration, given: dict[str, Any]) -> RegistrationAnswers | None:
    """Write the registrant's answers to the questions asked now (no commit). Answers to
    removed questions stay stored; an answer left empty is stored empty."""
    questions = questions_of(registration.workshop_id)
    answers = clean_answers(questions, given)
    row = answers_row(registration.id)
    if row is None:
        if not answers:
            return None
        row = RegistrationAnswers(
            tenant_id=registration.tenant_id,
            registration_id=registration.id,
            workshop_id=registration.workshop_id,
            answers={},
        )
        db.session.add(row)
    merged = {**(row.answers or {}), **answers}
    if merged != row.answers:
        row.answers = merged  # a new dict: the JSON column sees the change
    return row


def change_answers(user: User, workshop: Workshop, registration: Registration, given: dict) -> None:
    """The registrant changes their own answers while registered (or waiting)."""
    if registration.user_id != user.id:
        raise ServiceError(_("Only the registrant changes their answers."))
    from portal.workshops.models import RegistrationStatus

    if registration.status == RegistrationStatus.CANCELLED:
        raise ServiceError(_("You are not registered for this workshop."))
    _require_editable(workshop)
    store_answers(registration, given)
    db.session.commit()


def answers_by_registration(registration_ids: list[int]) -> dict[int, dict[str, str]]:
    """The answers of many registrations, in one query."""
    if not registration_ids:
        return {}
    rows = db.session.execute(
        select(RegistrationAnswers.registration_id, RegistrationAnswers.answers).where(
            RegistrationAnswers.registration_id.in_(registration_ids)
        )
    )
    return {registration_id: answers or {} for registration_id, answers in rows}


def checked_answers(workshop_id: int, given: dict[str, Any]) -> dict[str, str]:
    """Answers to the workshop's questions checked exactly as the register form checks them
    (required, one of the options, length), for a caller without a form (the JSON API);
    keyed by question id. Refused with the form's messages, keyed ``q<id>``."""
    from werkzeug.datastructures import MultiDict

    from portal.workshops.registration_forms import answers_form

    formdata = MultiDict(
        (f"q{key}", "" if value is None else str(value)) for key, value in given.items()
    )
    form = answers_form(questions_of(workshop_id), formdata=formdata, meta={"csrf": False})
    if not form.validate():
        errors = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
        raise ServiceError(next(iter(errors.values()))[0], errors)
    return form.answers()
