"""The webhook form (the address and events are checked by the service, which says why)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional

from portal.locking import VersionedForm
from portal.settings.forms import MultiCheckboxField
from portal.web.forms import strip
from portal.webhooks.models import EVENTS


class WebhookForm(VersionedForm, FlaskForm):
    url = StringField(
        _l("Address (URL)"),
        filters=[strip],
        description=_l(
            "Where the portal sends each event, as an HTTPS POST with a JSON body. It must be "
            "a public address."
        ),
        render_kw={"inputmode": "url", "autocomplete": "url", "spellcheck": "false"},
    )
    description = StringField(
        _l("Name (to tell your webhooks apart)"),
        filters=[strip],
        validators=[Optional(), Length(max=200)],
    )
    # The service checks the events (its message is the portal's own, translated).
    events = MultiCheckboxField(_l("Events to send"), default=list, validate_choice=False)
    active = BooleanField(_l("Active: send events"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = [(key, label) for key, label in EVENTS.items()]

    def values(self) -> dict:
        return {
            "url": self.url.data,
            "description": self.description.data,
            "events": list(self.events.data or ()),
            "active": self.active.data,
        }


class NewWebhookForm(WebhookForm):
    version = None  # nothing stored yet to be edited
