"""Forms of the reference portfolio and settings pages."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.toolkit import FlaskForm, _l
from portal_compare.reference_format import KIND_LABELS, KINDS, NAME_LIMIT

MIN_GROUP_LOW, MIN_GROUP_HIGH = 3, 50


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def set_choices(indicator_sets, pick, locale: str) -> list[tuple[str, str]]:
    """Select options for indicator set versions: value "id:version"."""
    return [(f"{s.id}:{s.version}", f"{pick(s.title, locale)} {s.version}") for s in indicator_sets]


class ReferenceImportForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Give the portfolio a name.")),
            Length(max=NAME_LIMIT, message=_l("At most %(max)d characters.")),
        ],
        description=_l(
            "Who, when and how many, e.g. “Danish clusters 2016 (29)”. Unique in this region "
            "for the indicator set version."
        ),
    )
    indicator_set = SelectField(
        _l("Indicator set"),
        validators=[DataRequired(_l("Choose an indicator set."))],
        validate_choice=True,
    )
    kind = SelectField(
        _l("The file holds"),
        choices=[(kind, KIND_LABELS[kind]) for kind in KINDS],
        default="clusters",
    )
    file = FileField(
        _l("CSV or Excel file"), validators=[FileRequired(_l("Choose a file to import."))]
    )


class PublishForm(FlaskForm):
    indicator_set = SelectField(
        _l("Indicator set"), validators=[DataRequired(_l("Choose an indicator set."))]
    )
