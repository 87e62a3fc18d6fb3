from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.i18n import ACTION_STATUS_LABELS, PRIORITY_LABELS
from portal.locking import VersionedForm
from portal.settings.forms import MultiCheckboxField
from portal.web.forms import strip
from portal.web.widgets import Select

EFFORT_FIELDS = ("planned_hours", "spent_hours", "planned_money", "spent_money")
DECIMAL_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


def _none_if_empty(value):
    return None if value in ("", None) else value


class OwnerField(SelectField):
    """An action's owner, one of the people offered (``people_choices(..., owners=True)``):
    those who may edit the action. Anyone else is refused with a message that says why."""

    widget = Select()  # everyone who may edit: the fast widget

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(
                _l("Choose someone who may edit the action: observers and assessors may not.")
            ) from None


class PlanForm(VersionedForm, FlaskForm):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    start_date = DateField(_l("Starts"), validators=[DataRequired()])
    end_date = DateField(_l("Ends"), validators=[DataRequired()])
    goals = TextAreaField(_l("Goals"), validators=[Optional(), Length(max=5000)])
    focus_areas = TextAreaField(
        _l("Focus areas"),
        validators=[Optional(), Length(max=2000)],
        description=_l(
            "For example: communication and branding; member services; joint innovation projects."
        ),
    )


class ActionForm(VersionedForm, FlaskForm):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    owner_id = OwnerField(_l("Owner"), coerce=_none_if_empty, validators=[Optional()])
    clusters = MultiCheckboxField(_l("Responsible clusters"), coerce=int, default=list)
    start_date = DateField(_l("Starts"), validators=[Optional()])
    due_date = DateField(_l("Due"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=list(ACTION_STATUS_LABELS.items()))
    progress = IntegerField(
        _l("Progress (%)"), default=0, validators=[Optional(), NumberRange(min=0, max=100)]
    )
    priority = SelectField(_l("Priority"), choices=list(PRIORITY_LABELS.items()), default="normal")
    weight = DecimalField(
        _l("Weight"),
        default=1,
        places=2,
        validators=[Optional(), NumberRange(min=0.01, max=1000)],
        description=_l("How much the action counts in the plan's progress; 1 is normal."),
    )
    workshop_id = SelectField(
        _l("Decided at workshop"),
        widget=Select(),  # every workshop held so far: the fast widget
        coerce=_none_if_empty,
        validators=[Optional()],
        description=_l("The workshop where the action was decided, if it was."),
    )
    # Checked by the services (portal.improvement.links.check_keys), as an import is: a wrong
    # one is refused there with a message naming it.
    indicators = SelectMultipleField(
        _l("Indicators the action aims to improve"),
        widget=Select(multiple=True),
        coerce=str,
        validate_choice=False,
        default=list,
        description=_l(
            "Its effect on them is measured from the benchmarking rounds before it starts and "
            "after it ends."
        ),
    )
    # Numbers as typed (a decimal comma too): the services check and round them.
    planned_hours = StringField(_l("Hours planned"), filters=[strip], render_kw=DECIMAL_INPUT)
    spent_hours = StringField(_l("Hours spent"), filters=[strip], render_kw=DECIMAL_INPUT)
    planned_money = StringField(_l("Money planned"), filters=[strip], render_kw=DECIMAL_INPUT)
    spent_money = StringField(_l("Money spent"), filters=[strip], render_kw=DECIMAL_INPUT)

    def __init__(
        self,
        *args,
        people=(),
        cluster_choices=(),
        workshops=(),
        indicator_choices=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = [("", _l("Nobody yet"))] + [(str(i), n) for i, n in people]
        self.clusters.choices = list(cluster_choices)
        self.workshop_id.choices = [("", _l("No workshop"))] + [(str(i), n) for i, n in workshops]
        self.indicator_options = list(indicator_choices)
        self.indicators.choices = [(o.value, o.name) for o in self.indicator_options]

    def indicator_groups(self, locale: str) -> list:
        """The picker's groups (set title, group, choices); indicators the action names that
        the region no longer offers (their set switched off) come last, so they stay checked."""
        from portal.improvement.links import IndicatorChoice, describe, grouped, parse_key

        offered = {o.value for o in self.indicator_options}
        kept = [k for k in map(parse_key, self.indicators.data or []) if k is not None]
        kept = [k for k in kept if "/".join(k) not in offered]
        extra = [
            IndicatorChoice(key, str(_l("No longer offered")), info.set_title, info.name)
            for key, info in describe(kept, locale).items()
        ]
        return grouped(self.indicator_options + extra)

    def indicator_names(self, locale: str) -> dict[str, str]:
        return {
            o.value: o.name for _s, _g, options in self.indicator_groups(locale) for o in options
        }

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "owner_id": int(self.owner_id.data) if self.owner_id.data else None,
            "start_date": self.start_date.data,
            "due_date": self.due_date.data,
            "status": self.status.data,
            "progress": self.progress.data or 0,
            "priority": self.priority.data,
            "weight": float(self.weight.data) if self.weight.data is not None else 1.0,
            "workshop_id": int(self.workshop_id.data) if self.workshop_id.data else None,
            **{name: getattr(self, name).data for name in EFFORT_FIELDS},
        }


class QuickEditForm(FlaskForm):
    """Status and progress of one action, from its row in the plan."""

    status = SelectField(_l("Status"), choices=list(ACTION_STATUS_LABELS.items()))
    progress = IntegerField(
        _l("Progress (%)"), validators=[Optional(), NumberRange(min=0, max=100)]
    )
    version = IntegerField(validators=[DataRequired()])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=5000)])
    mention = MultiCheckboxField(
        _l("Tell these people (they get an e-mail)"), coerce=int, default=list
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.mention.choices = list(people)


class AttachmentForm(FlaskForm):
    file = FileField(
        _l("File (PDF, Word, Excel, PowerPoint, PNG or JPEG)"),
        validators=[FileRequired(_l("Choose a file."))],
    )


class CommentEditForm(VersionedForm, FlaskForm):
    """The author's edit of their comment (its version: no lost update)."""

    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=5000)])


class CommentHideForm(VersionedForm, FlaskForm):
    """A coordinator hides a comment or shows it again."""
