"""Forms of the workshop pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from portal.locking import VersionedForm
from portal.plans.forms import OwnerField
from portal.settings.forms import MultiCheckboxField
from portal.web.forms import strip

MAX_CAPACITY = 100_000


def optional_int(value):
    """Coerce for selects with an empty choice: "" means none."""
    if value in (None, "", "None"):
        return None
    return int(value)


def web_address(form, field) -> None:
    """Only http(s) links: a javascript: or data: address must never become a link."""
    if field.data and not field.data.lower().startswith(("http://", "https://")):
        raise ValidationError(_l("Enter an address that starts with https:// or http://."))


def sensible_year(form, field) -> None:
    if field.data is not None and not 1990 <= field.data.year <= 2100:
        raise ValidationError(_l("Enter a date between 1990 and 2100."))


def seats_range(form, field) -> None:
    # Not NumberRange: it turns the number into a float, which fails for very long numbers.
    if field.data is not None and not 1 <= field.data <= MAX_CAPACITY:
        raise ValidationError(_l("Enter a number from 1 to 100000."))


class WorkshopForm(VersionedForm, FlaskForm):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    programme_id = SelectField(_l("Programme"), coerce=optional_int, validators=[Optional()])
    day = DateField(_l("Day"), validators=[InputRequired(), sensible_year])
    start_time = TimeField(_l("Starts at"), validators=[InputRequired()])
    end_time = TimeField(_l("Ends at"), validators=[InputRequired()])
    location = StringField(
        _l("Place"),
        filters=[strip],
        validators=[Optional(), Length(max=300)],
        description=_l("For example the meeting room and the address."),
    )
    online_url = StringField(
        _l("Online meeting link"),
        filters=[strip],
        validators=[Optional(), URL(require_tld=False), web_address, Length(max=500)],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    capacity = IntegerField(
        _l("Seats"),
        validators=[Optional(), seats_range],
        description=_l(
            "Leave empty for no limit. When the seats are taken, people join a waiting list."
        ),
    )

    def __init__(self, *args, programme_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.programme_id.choices = [("", _l("No programme"))] + list(programme_choices)

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "programme_id": self.programme_id.data,
            "day": self.day.data,
            "start_time": self.start_time.data,
            "end_time": self.end_time.data,
            "location": self.location.data or "",
            "online_url": self.online_url.data or "",
            "description": self.description.data or "",
            "capacity": self.capacity.data,
        }


class AgendaItemForm(FlaskForm):
    start_time = TimeField(_l("Time"), validators=[Optional()])
    title = StringField(_l("Item"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    presenter = StringField(
        _l("Presenter"), filters=[strip], validators=[Optional(), Length(max=200)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])

    def values(self) -> dict:
        return {
            "start_time": self.start_time.data,
            "title": self.title.data,
            "presenter": self.presenter.data or "",
            "notes": self.notes.data or "",
        }


class InviteForm(FlaskForm):
    cluster_ids = MultiCheckboxField(
        _l("Clusters (everyone working for them)"), coerce=int, default=list
    )
    user_ids = MultiCheckboxField(_l("People"), coerce=int, default=list)

    def __init__(self, *args, cluster_choices=(), people_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.cluster_ids.choices = list(cluster_choices)
        self.user_ids.choices = list(people_choices)


class AttendanceForm(VersionedForm, FlaskForm):
    """Who attended; ``version`` is the workshop's (attendance is saved as a change of the
    workshop, like its minutes, so two people marking it at once do not overwrite each other)."""

    attended = MultiCheckboxField(_l("Attended"), coerce=int, default=list)

    def __init__(self, *args, registration_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.attended.choices = list(registration_choices)


class MinutesForm(VersionedForm, FlaskForm):
    minutes = TextAreaField(
        _l("Minutes (Markdown)"),
        validators=[Optional(), Length(max=100_000)],
        description=_l(
            "Markdown: **bold**, *italic*, lists with - and links. No scripts or images."
        ),
    )


class MaterialForm(FlaskForm):
    file = FileField(
        _l("File (PDF, Word, Excel, PowerPoint, PNG or JPEG)"),
        validators=[FileRequired(_l("Choose a file to upload."))],
    )


class DecisionForm(FlaskForm):
    title = StringField(
        _l("Decision"), filters=[strip], validators=[DataRequired(), Length(max=200)]
    )
    plan_id = SelectField(_l("Plan"), coerce=optional_int, validators=[DataRequired()])
    owner_id = OwnerField(_l("Owner"), coerce=optional_int, validators=[Optional()])
    due_date = DateField(_l("Due"), validators=[Optional(), sensible_year])

    def __init__(self, *args, plan_choices=(), people_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.plan_id.choices = [("", _l("Choose a plan"))] + list(plan_choices)
        self.owner_id.choices = [("", _l("No owner yet"))] + list(people_choices)
