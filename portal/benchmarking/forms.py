from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.web.forms import strip


class RoundForm(FlaskForm):
    """The round itself; the values come as v-<indicator id> and c-<indicator id> fields."""

    held_on = DateField(_l("Date of the benchmarking"), validators=[InputRequired()])
    assessor = StringField(
        _l("Assessor"), filters=[strip], validators=[Optional(), Length(max=200)]
    )
    audit = BooleanField(
        _l("Audit round"),
        description=_l(
            "An audit for a label by a certified assessor (some levels, such as gold, need one)."
        ),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
