"""Forms of the joint action pages, the status names, and the choices the forms offer.

Numbers (budget, hours, money, progress) are plain text fields: the services parse them
(a decimal comma is fine) and answer with a translated message per field.
"""

from __future__ import annotations

from flask_babel import get_locale
from sqlalchemy import select
from wtforms import (
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.toolkit import (
    FlaskForm,
    User,
    _l,
    db,
    indicator_sets_for,
    people_of,
    pick_text,
)

JOINT_STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
PART_STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "blocked": _l("Blocked"),
}
ORIGIN_LABELS = {
    "manual": _l("Entered on this page"),
    "workshop": _l("Decided at a workshop"),
    "scorecard": _l("From a weak indicator of the portfolio scorecard"),
    "plan_goal": _l("From a goal of the joint plan"),
    "import": _l("Imported from a file"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _none_if_empty(value):
    return None if value in ("", None, "None") else value


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes; the core's ``field`` macro draws them as a fieldset (by the class name)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _number(label, description=None):
    return StringField(
        label,
        filters=[_strip],
        description=description,
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class PersonField(SelectField):
    """A lead or an owner, one of the people offered (``people_choices``); anyone else is
    refused with a message that says why."""

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(PERSON_REFUSED) from None


PERSON_REFUSED = _l(
    "Choose someone who may work on the joint action: observers and assessors may not."
)


class JointActionForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(), Length(max=200)])
    aim = TextAreaField(
        _l("Aim"),
        validators=[Optional(), Length(max=5000)],
        description=_l("What the clusters want to reach together, and how they will know."),
    )
    lead_user_id = PersonField(_l("Lead person"), coerce=_none_if_empty, validators=[Optional()])
    lead_cluster_id = SelectField(
        _l("Lead cluster"), coerce=_none_if_empty, validators=[Optional()]
    )
    start_date = DateField(_l("Starts"), validators=[Optional()])
    due_date = DateField(_l("Due"), validators=[Optional()])
    budget_money = _number(
        _l("Shared budget: money"), _l("The money the clusters plan to spend together.")
    )
    budget_hours = _number(
        _l("Shared budget: hours"), _l("The working hours the clusters plan to spend together.")
    )
    clusters = MultiCheckboxField(_l("Participating clusters"), coerce=int, default=list)
    indicators = SelectMultipleField(
        _l("Indicators it should improve"),
        default=list,
        description=_l("Hold Ctrl (⌘ on a Mac) to choose more than one."),
        render_kw={"size": 10},
    )
    version = HiddenField()

    def __init__(self, *args, people=(), cluster_choices=(), indicator_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lead_user_id.choices = [("", _l("Nobody yet"))] + [(str(i), n) for i, n in people]
        self.lead_cluster_id.choices = [("", _l("No lead cluster"))] + [
            (str(i), n) for i, n in cluster_choices
        ]
        self.clusters.choices = list(cluster_choices)
        self.indicators.choices = indicator_choices or []

    def values(self) -> dict:
        return {
            "title": self.title.data,
            "aim": self.aim.data or "",
            "lead_user_id": int(self.lead_user_id.data) if self.lead_user_id.data else None,
            "lead_cluster_id": (
                int(self.lead_cluster_id.data) if self.lead_cluster_id.data else None
            ),
            "start_date": self.start_date.data,
            "due_date": self.due_date.data,
            "budget_money": self.budget_money.data or None,
            "budget_hours": self.budget_hours.data or None,
        }

    def chosen_indicators(self) -> list[tuple[str, str, str]]:
        return [tuple(value.split(":", 2)) for value in self.indicators.data or []]


class MoveForm(FlaskForm):
    """A board card's "Move to": the new status and the version the card showed."""

    status = StringField()
    version = HiddenField()
    next = HiddenField()


class PartForm(FlaskForm):
    tasks = TextAreaField(
        _l("Tasks"),
        validators=[Optional(), Length(max=5000)],
        description=_l("What this cluster does for the joint action."),
        render_kw={"rows": 3},
    )
    owner_id = PersonField(_l("Owner"), coerce=_none_if_empty, validators=[Optional()])
    status = SelectField(_l("Status"), choices=list(PART_STATUS_LABELS.items()))
    progress = StringField(
        _l("Progress (%)"),
        filters=[_strip],
        render_kw={"inputmode": "numeric", "type": "number", "min": 0, "max": 100},
    )
    hours_spent = _number(_l("Hours spent"))
    money_spent = _number(_l("Money spent"))
    solo_hours = _number(_l("Hours it would have taken alone"))
    solo_money = _number(_l("Money it would have cost alone"))
    version = HiddenField()

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = [("", _l("Nobody yet"))] + [(str(i), n) for i, n in people]

    def values(self) -> dict:
        return {
            "tasks": self.tasks.data or "",
            "owner_id": int(self.owner_id.data) if self.owner_id.data else None,
            "status": self.status.data,
            "progress": self.progress.data or 0,
            "hours_spent": self.hours_spent.data,
            "money_spent": self.money_spent.data,
            "solo_hours": self.solo_hours.data,
            "solo_money": self.solo_money.data,
        }


class JoinForm(FlaskForm):
    cluster_id = SelectField(_l("Cluster"), coerce=int, validators=[DataRequired()])

    def __init__(self, *args, clusters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.cluster_id.choices = [(c.id, c.name) for c in clusters]


class ConfirmForm(FlaskForm):
    """Only the CSRF token: leaving, deleting."""


# --- choices ----------------------------------------------------------------------------------


def people_choices(tenant, *keep: int | None) -> list[tuple[int, str]]:
    """People who can lead a joint action or own a contribution: those of the region who may
    then work on it (not observers or assessors, who read only), plus whoever holds the field
    now (``keep``, e.g. someone who left the region)."""
    people = dict(people_of(tenant.id, owners=True))
    missing = {i for i in keep if i and i not in people}
    if missing:
        for user in db.session.scalars(select(User).where(User.id.in_(missing))):
            people[user.id] = user.name
    return sorted(people.items(), key=lambda item: (item[1].lower(), item[0]))


def indicator_choices(tenant_id: int, skip: set[tuple[str, str]] = frozenset()):
    """The newest version of each indicator set the region switched on, as option groups of
    "set:version:indicator" values; ``skip`` holds (set, indicator) pairs already linked."""
    locale = str(get_locale() or "en")
    groups: dict[str, list[tuple[str, str]]] = {}
    seen: set[str] = set()
    for indicator_set in indicator_sets_for(tenant_id):  # newest version first
        if indicator_set.id in seen:
            continue
        seen.add(indicator_set.id)
        title = pick_text(indicator_set.title, locale)
        options = [
            (f"{indicator_set.id}:{indicator_set.version}:{i.id}", pick_text(i.name, locale))
            for i in indicator_set.indicators
            if (indicator_set.id, i.id) not in skip
        ]
        if options:
            groups[title] = options
    return groups
