from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal.i18n import MILESTONE_KIND_LABELS
from portal.locking import VersionedForm
from portal.web.forms import strip


class ProgrammeForm(VersionedForm, FlaskForm):
    name = StringField(_l("Name"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    start_date = DateField(_l("Starts"), validators=[DataRequired()])
    end_date = DateField(_l("Ends"), validators=[DataRequired()])


class ParticipantForm(FlaskForm):
    """Add one cluster (its id; checked against the tenant's clusters by the view)."""

    cluster_id = IntegerField(_l("Cluster"), validators=[DataRequired()])
    goal = TextAreaField(
        _l("Goal of the cluster in this programme"),
        validators=[Optional(), Length(max=2000)],
        description=_l("For example: silver label before the bronze label expires."),
    )


class GoalForm(VersionedForm, FlaskForm):
    goal = TextAreaField(_l("Goal"), validators=[Optional(), Length(max=2000)])


class MilestoneForm(FlaskForm):
    title = StringField(
        _l("Milestone"), filters=[strip], validators=[DataRequired(), Length(max=200)]
    )
    kind = SelectField(_l("Kind"), choices=list(MILESTONE_KIND_LABELS.items()))
    due_date = DateField(_l("Date"), validators=[DataRequired()])
    done = BooleanField(_l("Done"))
