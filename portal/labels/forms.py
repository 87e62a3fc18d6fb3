"""The form of a planned assessment (the label calendar)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.labels.planning import KIND_LABELS, NOTES_LIMIT
from portal.labels.scheme import LabelScheme
from portal.locking import VersionedForm


class PlannedAssessmentForm(VersionedForm, FlaskForm):
    scheme = SelectField(_l("Label scheme"), validators=[DataRequired()])
    kind = SelectField(
        _l("Kind of assessment"),
        choices=list(KIND_LABELS.items()),
        validators=[DataRequired()],
    )
    planned_on = DateField(
        _l("Planned on"),
        validators=[DataRequired(message=_l("Enter the planned day as YYYY-MM-DD."))],
    )
    level = SelectField(
        _l("Level aimed at (optional)"),
        validators=[Optional()],
        description=_l("A renewal counts for the level aimed at and those below it."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=NOTES_LIMIT)])

    def offer(self, schemes: list[LabelScheme]) -> PlannedAssessmentForm:
        """The region's schemes and their levels as the choices."""
        self.scheme.choices = [(s.id, str(s.title)) for s in schemes]
        self.level.choices = [("", _l("Any level"))] + [
            (level.id, f"{s.title}: {level.name}") for s in schemes for level in s.levels
        ]
        return self

    def values(self) -> dict:
        return {
            "scheme": self.scheme.data,
            "kind": self.kind.data,
            "planned_on": self.planned_on.data,
            "level": self.level.data or "",
            "notes": self.notes.data or "",
        }
