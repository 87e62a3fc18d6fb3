from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.benchmarking.models import RoundKind
from portal.locking import VersionedForm
from portal.web.forms import strip

KIND_LABELS = {
    RoundKind.SELF_ASSESSMENT: _l("Self-assessment"),
    RoundKind.BENCHMARKING: _l("Benchmarking"),
    RoundKind.AUDIT: _l("Audit"),
}


class RoundForm(VersionedForm, FlaskForm):
    """The round itself; the values come as v-<indicator id> and c-<indicator id> fields.
    ``kind`` offers the kinds the user may enter (set by the view)."""

    held_on = DateField(_l("Date of the benchmarking"), validators=[InputRequired()])
    kind = SelectField(
        _l("Kind of round"),
        choices=[(k.value, label) for k, label in KIND_LABELS.items()],
        default=RoundKind.BENCHMARKING.value,
        description=_l(
            "A self-assessment is the cluster's own scoring, for planning; it never counts as "
            "evidence for a label. A benchmarking (the bronze interview) or an audit (on site, "
            "for gold) is an expert's result: entered by the expert or, on the expert's "
            "behalf, by a coordinator."
        ),
    )
    assessor = StringField(
        _l("Expert"),
        filters=[strip],
        validators=[Optional(), Length(max=200)],
        description=_l("The certified expert whose result this is."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class CorrectionForm(RoundForm):
    """A confirmed round corrected by an assessor: the reason is required and kept."""

    reason = TextAreaField(
        _l("Why the confirmed result is corrected"),
        validators=[
            InputRequired(_l("Say why the confirmed result is corrected.")),
            Length(max=5000),
        ],
    )
