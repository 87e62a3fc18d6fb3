from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp
from wtforms.widgets import ColorInput, ListWidget

from portal.i18n import ROLE_LABELS, TIMEZONES, currency_choices, language_choices
from portal.locking import VersionedForm
from portal.web.forms import strip
from portal.web.widgets import CheckboxInput


class TenantSettingsForm(VersionedForm, FlaskForm):
    name = StringField(_l("Name of the region"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    default_locale = SelectField(_l("Default language"))
    timezone = SelectField(_l("Time zone"), choices=[(tz, tz) for tz in TIMEZONES])
    currency = SelectField(
        _l("Currency"),
        validate_choice=False,  # the service checks it (a form without it keeps the currency)
        description=_l("Amounts of money (actions' budgets and spending) are in this currency."),
    )
    accent_color = StringField(
        _l("Accent colour"),
        widget=ColorInput(),
        validators=[
            DataRequired(),
            Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Use # and six hex digits.")),
        ],
    )
    logo = FileField(_l("Logo (PNG, JPEG, WebP or GIF, at most 2 MB)"))
    remove_logo = BooleanField(_l("Remove the current logo"))
    effort_baseline_shared = BooleanField(
        _l("Share our measured effort baseline with other regions"),
        description=_l(
            "What our clusters spent on their own actions per indicator, only as totals over "
            "at least our smallest group of clusters, so other regions' joint actions can "
            "compare with it. Never a cluster's name or its own figures."
        ),
    )
    register_published = BooleanField(
        _l("Publish our label register"),
        description=_l(
            "Anyone may see, without an account, which of our clusters hold which label: the "
            "level, the scheme and its version, when it was awarded and until when it is valid. "
            "Never a cluster's values, evidence or people."
        ),
    )
    register_scores_published = BooleanField(
        _l("Publish the labels' scores too"),
        description=_l("Only while the register is published."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_locale.choices = language_choices()
        self.currency.choices = currency_choices()


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()  # one per cluster of the region: the fast widget


class MembershipForm(VersionedForm, FlaskForm):
    """A role in the region, and the clusters it is tied to."""

    role = SelectField(_l("Role"), validators=[DataRequired()])
    clusters = MultiCheckboxField(
        _l("Clusters (for managers and members)"), coerce=int, default=list
    )

    def __init__(self, *args, cluster_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = list(ROLE_LABELS.items())
        self.clusters.choices = list(cluster_choices)


class InviteForm(MembershipForm):
    version = None  # an invitation is no edit of a stored object
    email = EmailField(
        _l("E-mail"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)]
    )


class TenantCreateForm(FlaskForm):
    name = StringField(_l("Name of the region"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Short name (in addresses)"),
        validators=[DataRequired(), Length(max=63)],
        description=_l("Lowercase letters, digits and hyphens, e.g. nordland."),
    )
    default_locale = SelectField(_l("Default language"))
    timezone = SelectField(_l("Time zone"), choices=[(tz, tz) for tz in TIMEZONES])
    coordinator_email = EmailField(
        _l("First coordinator's e-mail (gets an invitation)"),
        filters=[strip],
        validators=[Optional(), Email(), Length(max=254)],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_locale.choices = language_choices()
