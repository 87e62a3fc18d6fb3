from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, Length, Optional

from portal.i18n import MEMBER_TYPE_LABELS
from portal.locking import VersionedForm
from portal.web.forms import UpToThisYear, strip


def _year_range():
    return UpToThisYear(1800, message=_l("Enter a year between 1800 and this year."))


class ClusterForm(VersionedForm, FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    sector = StringField(_l("Sector"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    website = StringField(
        _l("Website"), validators=[Optional(), URL(require_tld=False), Length(max=500)]
    )
    founded_year = IntegerField(_l("Founded (year)"), validators=[Optional(), _year_range()])
    programme_level = StringField(
        _l("Programme level"),
        validators=[Optional(), Length(max=100)],
        description=_l("For example Arena, Arena Pro or GCE."),
    )
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=200)])
    contact_email = EmailField(
        _l("Contact e-mail"), filters=[strip], validators=[Optional(), Email(), Length(max=254)]
    )
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=50)])

    def values(self) -> dict:
        data = {k: (v if v is not None else "") for k, v in self.data.items() if k != "csrf_token"}
        data["founded_year"] = self.founded_year.data
        return data


class MemberForm(VersionedForm, FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    member_type = SelectField(_l("Type"), validators=[DataRequired()])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    website = StringField(
        _l("Website"), validators=[Optional(), URL(require_tld=False), Length(max=500)]
    )
    joined_year = IntegerField(_l("Member since (year)"), validators=[Optional(), _year_range()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.member_type.choices = list(MEMBER_TYPE_LABELS.items())

    def values(self) -> dict:
        data = {k: (v if v is not None else "") for k, v in self.data.items() if k != "csrf_token"}
        data["joined_year"] = self.joined_year.data
        return data


class MemberImportForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"), validators=[FileRequired(_l("Choose a file to import."))]
    )
