"""Forms of registration questions, answers and seat requests.

The answers form is built for the workshop's questions: one field ``q<id>`` a question, a
radio group for on site/online and for a choice, text otherwise; a required one must be
answered, a choice must be one of its options. The basic flow works without JavaScript.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.locking import VersionedForm
from portal.web.forms import strip
from portal.workshops import questions as qs
from portal.workshops.registration_models import QuestionKind, RegistrationQuestion

NOTE_LIMIT = 2000
REASON_LIMIT = 2000


class QuestionForm(FlaskForm):
    """A new question: its kind, its words (for a free question), options for a choice."""

    kind = SelectField(
        _l("Kind of question"),
        choices=[(kind.value, label) for kind, label in qs.KIND_LABELS.items()],
        validators=[DataRequired()],
    )
    label = StringField(
        _l("Question"),
        filters=[strip],
        validators=[Optional(), Length(max=qs.LABEL_LIMIT)],
        description=_l(
            "Needed for a free question. For on site or online and dietary needs, leave it "
            "empty to ask in each person's language."
        ),
    )
    options = TextAreaField(
        _l("Options (for a choice, one a line)"),
        validators=[Optional(), Length(max=qs.MAX_OPTIONS * (qs.OPTION_LIMIT + 2))],
    )
    required = BooleanField(_l("An answer is required"))

    def values(self) -> dict:
        return {
            "kind": self.kind.data,
            "label": self.label.data or "",
            "options": self.options.data or "",
            "required": bool(self.required.data),
        }


class QuestionEditForm(VersionedForm, QuestionForm):
    """A question changed: its kind stays (answers of one kind would not fit another)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.kind

    def values(self) -> dict:
        return {
            "label": self.label.data or "",
            "options": self.options.data or "",
            "required": bool(self.required.data),
        }


def _one_of(question: RegistrationQuestion, kept: str | None):
    allowed = {value for value, _label in qs.choices_of(question)} | ({kept} if kept else set())

    def check(form, field) -> None:
        if field.data and field.data not in allowed:
            raise ValidationError(_l("Choose one of the options."))

    return check


def _field(question: RegistrationQuestion, stored: str | None):
    label = qs.label_of(question)
    need = (
        [DataRequired(message=_l("Answer this question."))] if question.required else [Optional()]
    )
    if question.kind in (QuestionKind.ATTENDANCE_MODE, QuestionKind.CHOICE):
        choices = qs.choices_of(question)
        if stored and stored not in {value for value, _label in choices}:
            choices.append((stored, stored))  # an option changed since: the answer stays valid
        return RadioField(
            label,
            choices=choices,
            validate_choice=False,
            validators=[*need, _one_of(question, stored)],
        )
    limit = qs.ANSWER_LIMITS[question.kind]
    message = _l("At most %(n)d characters.", n=limit)
    return TextAreaField(
        label, filters=[strip], validators=[*need, Length(max=limit, message=message)]
    )


class _Answers:
    """What every answers form has: its questions, and the answers as stored."""

    questions: list[RegistrationQuestion] = []

    def answer_fields(self):
        return [(question, self[f"q{question.id}"]) for question in self.questions]

    def answers(self) -> dict[str, str]:
        return {
            str(question.id): (field.data or "").strip() for question, field in self.answer_fields()
        }


def answers_form(
    questions: list[RegistrationQuestion],
    *,
    stored: dict[str, str] | None = None,
    versioned: bool = False,
    seat_request: bool = False,
    formdata=None,
    **kwargs,
):
    """The form asking ``questions``; ``stored``: the answers given so far (shown and kept
    valid); ``versioned``: a change of stored answers (the row's version); ``seat_request``:
    with a note for the coordinators. ``formdata=None`` shows it unsubmitted."""
    stored = stored or {}
    bases = (VersionedForm, _Answers, FlaskForm) if versioned else (_Answers, FlaskForm)
    attrs = {f"q{q.id}": _field(q, stored.get(str(q.id))) for q in questions}
    attrs["questions"] = questions
    if seat_request:
        attrs["note"] = TextAreaField(
            _l("A note for the coordinators (optional)"),
            filters=[strip],
            validators=[Optional(), Length(max=NOTE_LIMIT)],
        )
    form_class = type("AnswersForm", bases, attrs)
    data = {f"q{key}": value for key, value in stored.items()}
    if formdata is None:
        return form_class(formdata=None, data=data, **kwargs)
    return form_class(formdata=formdata, **kwargs)


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (optional; the person reads it)"),
        filters=[strip],
        validators=[Optional(), Length(max=REASON_LIMIT)],
    )


class AttendanceMinutesForm(VersionedForm, FlaskForm):
    """Copy the attendance into the minutes: ``version`` is the workshop's (the minutes')."""

    marker = HiddenField(default="attendance")
