from __future__ import annotations

from wtforms import DecimalField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.toolkit import FlaskForm, UpToThisYear, VersionedForm, _l


class KeyFigureForm(VersionedForm, FlaskForm):
    """A year's figures; ``version`` is that of the year's figures the form was filled from
    (empty for a year reported afresh: refused when the year is reported already)."""

    year = IntegerField(_l("Year"), validators=[DataRequired(), UpToThisYear(1990, ahead=1)])
    employees = IntegerField(
        _l("Employees in member companies"),
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
    )
    turnover_meur = DecimalField(
        _l("Turnover of member companies (million EUR)"),
        places=1,
        validators=[Optional(), NumberRange(min=0, max=10_000_000)],
    )
    innovation_projects = IntegerField(
        _l("Joint innovation projects"), validators=[Optional(), NumberRange(min=0, max=100_000)]
    )
    note = StringField(_l("Note or source"), validators=[Optional(), Length(max=500)])
