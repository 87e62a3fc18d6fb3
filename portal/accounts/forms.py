from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, NumberRange, Optional

from portal.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from portal.i18n import language_choices
from portal.mail.preferences import KINDS as MAIL_KINDS
from portal.settings.forms import MultiCheckboxField
from portal.web.forms import strip


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        filters=[strip],
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), validators=[Optional()])
    mail = MultiCheckboxField(_l("Send me e-mail about"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [("", _l("The region's language"))] + language_choices()
        self.mail.choices = [(kind, label) for kind, label in MAIL_KINDS.items()]


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])


class TokenForm(FlaskForm):
    """A personal access token of the JSON API (portal.api.tokens checks the values again)."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What it is for, e.g. the dashboard that will use it."),
    )
    region = SelectField(_l("Region"), validators=[DataRequired()])
    scope = SelectField(
        _l("May"),
        choices=[("read", _l("Read")), ("write", _l("Read and write"))],
        default="read",
    )
    days = IntegerField(
        _l("Valid for (days)"), default=90, validators=[DataRequired(), NumberRange(1, 365)]
    )
