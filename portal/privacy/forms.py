"""The region's settings on benchmark values."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField
from wtforms.validators import InputRequired, NumberRange

from portal.locking import VersionedForm
from portal.privacy.policy import MIN_GROUP_HIGH, MIN_GROUP_LOW


class ValuesSettingsForm(VersionedForm, FlaskForm):
    min_group = IntegerField(
        _l("Smallest group shown"),
        validators=[
            InputRequired(_l("Give a number.")),
            NumberRange(
                min=MIN_GROUP_LOW, max=MIN_GROUP_HIGH, message=_l("Between %(min)s and %(max)s.")
            ),
        ],
        description=_l(
            "Aggregates (medians, quartiles, light shares, effects) of fewer clusters than "
            "this are not shown to people who may not see every cluster's values, so that no "
            "single cluster can be recognised in them."
        ),
    )
    names_shown = BooleanField(
        _l("Show coordinators the names of the clusters in forum comparisons"),
        description=_l(
            "Off: coordinators see the clusters numbered in the forum's scorecard. They see "
            "each cluster's own values on its pages either way."
        ),
    )
    forum_shared = BooleanField(
        _l("Share named values inside the forum"),
        description=_l(
            "On: every coordinator, assessor, cluster manager and member of the region sees "
            "every cluster's values by name. Off: a cluster's values are seen by its own "
            "people, the coordinators and the assessors. Observers never see named values "
            "unless a cluster shares its own report with them."
        ),
    )
