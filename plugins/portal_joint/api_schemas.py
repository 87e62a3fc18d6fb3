"""Joint actions and contributions in the JSON API: types and shapes only; what a value may
be (ranges, who may) is the services' (``portal_joint.services``), as for the forms."""

from __future__ import annotations

import marshmallow as ma

from portal.toolkit import PageArgsSchema, page_schema
from portal_joint.listing import SORTS
from portal_joint.models import JointStatus, PartStatus

JOINT_STATUSES = [s.value for s in JointStatus]
PART_STATUSES = [s.value for s in PartStatus]
LARGEST_ID = 2**31 - 1


def _id(**metadata) -> ma.fields.Integer:
    return ma.fields.Integer(
        load_default=None, validate=ma.validate.Range(min=1, max=LARGEST_ID), metadata=metadata
    )


def _amount(description: str) -> ma.fields.String:
    """An exact amount (hours or money) as the text of a decimal, e.g. "12.5"; null: none."""
    return ma.fields.String(
        required=True, allow_none=True, metadata={"description": description, "example": "12.5"}
    )


class JointActionArgsSchema(PageArgsSchema):
    programme_id = _id(description="The joint actions of a programme (its board)")
    status = ma.fields.String(
        load_default="",
        validate=ma.validate.OneOf(["", *JOINT_STATUSES]),
        metadata={"description": "A column of the board"},
    )
    cluster_id = _id(description="The joint actions the cluster takes part in now")
    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=100),
        metadata={"description": "Words in the title"},
    )
    sort = ma.fields.String(
        load_default="due",
        validate=ma.validate.OneOf(SORTS),
        metadata={"description": "due: due first, undated last (the board's order)"},
    )


class JointProgressSchema(ma.Schema):
    value = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "0 to 100; null if cancelled"}
    )
    basis = ma.fields.String(
        required=True,
        metadata={"description": "participants, done, nobody or cancelled"},
    )
    counted = ma.fields.Integer(required=True)


class IndicatorKeySchema(ma.Schema):
    indicator_set = ma.fields.String(required=True)
    set_version = ma.fields.String(required=True)
    indicator_id = ma.fields.String(required=True)


class JointActionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    programme_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    aim = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(JOINT_STATUSES))
    start_date = ma.fields.Date(required=True, allow_none=True)
    due_date = ma.fields.Date(required=True, allow_none=True)
    overdue = ma.fields.Boolean(required=True)
    lead_user_id = ma.fields.Integer(required=True, allow_none=True)
    lead_cluster_id = ma.fields.Integer(required=True, allow_none=True)
    workshop_id = ma.fields.Integer(required=True, allow_none=True)
    origin = ma.fields.String(required=True)
    budget_money = _amount("The shared budget in the region's currency")
    budget_hours = _amount("The shared budget in hours")
    participants = ma.fields.Integer(
        required=True, metadata={"description": "Clusters taking part now"}
    )
    progress = ma.fields.Nested(JointProgressSchema, required=True)
    indicators = ma.fields.List(ma.fields.Nested(IndicatorKeySchema), required=True)
    version = ma.fields.Integer(required=True)


JointActionPageSchema = page_schema(JointActionSchema, "JointActionPageSchema")


class EffortSchema(ma.Schema):
    together = _amount("What the participants spent, or the budget while nothing is spent")
    basis = ma.fields.String(required=True, metadata={"description": "spent, budget or none"})
    alone = _amount("What they would have spent alone (a measured baseline or estimates)")
    saved = _amount("alone minus what the same participants spent; null: not known")
    source = ma.fields.String(
        required=True, metadata={"description": "region, published, estimates or none"}
    )
    participants = ma.fields.Integer(required=True)
    estimated = ma.fields.Integer(required=True)
    pending = ma.fields.Integer(required=True)


class GroupSchema(ma.Schema):
    clusters = ma.fields.Integer(
        required=True, metadata={"description": "Clusters with a round before and after"}
    )
    before = _amount("The group's mean before; null when the privacy policy hides it")
    after = _amount("The group's mean after; null when hidden")
    change = _amount("The mean of each cluster's change; null when hidden")


class EffectSchema(ma.Schema):
    indicator = ma.fields.Nested(IndicatorKeySchema, required=True)
    name = ma.fields.String(required=True)
    reason = ma.fields.String(
        required=True, metadata={"description": "ok, not_over, no_data or too_few"}
    )
    before_day = ma.fields.Date(required=True)
    after_day = ma.fields.Date(required=True, allow_none=True)
    participants = ma.fields.Nested(GroupSchema, required=True)
    others = ma.fields.Nested(GroupSchema, required=True)
    difference = _amount("How much more the participants' value changed; null when hidden")
    min_group = ma.fields.Integer(required=True)


class JointActionDetailSchema(JointActionSchema):
    effort_money = ma.fields.Nested(EffortSchema, required=True)
    effort_hours = ma.fields.Nested(EffortSchema, required=True)
    effects = ma.fields.List(ma.fields.Nested(EffectSchema), required=True)


class ContributionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    action_id = ma.fields.Integer(required=True)
    cluster_id = ma.fields.Integer(required=True)
    cluster_name = ma.fields.String(required=True)
    joined_on = ma.fields.Date(required=True)
    left_on = ma.fields.Date(required=True, allow_none=True)
    tasks = ma.fields.String(required=True)
    owner_id = ma.fields.Integer(required=True, allow_none=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(PART_STATUSES))
    progress = ma.fields.Integer(required=True)
    hours_spent = _amount("Hours spent")
    money_spent = _amount("Money spent")
    solo_hours = _amount("The cluster's estimate of the hours alone; null: none given")
    solo_money = _amount("The cluster's estimate of the money alone; null: none given")
    version = ma.fields.Integer(required=True)


ContributionPageSchema = page_schema(ContributionSchema, "ContributionPageSchema")


class ContributionCreateSchema(ma.Schema):
    """A cluster joins the joint action (as the page's "Take part" does)."""

    class Meta:
        unknown = ma.RAISE

    cluster_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=LARGEST_ID))


def _number_in(description: str) -> ma.fields.Decimal:
    return ma.fields.Decimal(
        allow_none=True, as_string=True, places=None, metadata={"description": description}
    )


class ContributionPatchSchema(ma.Schema):
    """What the contribution form changes; ``services.update_part`` checks the values."""

    class Meta:
        unknown = ma.RAISE

    tasks = ma.fields.String(validate=ma.validate.Length(max=5000))
    owner_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=LARGEST_ID))
    status = ma.fields.String(validate=ma.validate.OneOf(PART_STATUSES))
    progress = ma.fields.Integer(allow_none=True, metadata={"description": "0 to 100"})
    hours_spent = _number_in("Hours spent (empty: 0)")
    money_spent = _number_in("Money spent (empty: 0)")
    solo_hours = _number_in("Hours it would have taken alone (null: no estimate)")
    solo_money = _number_in("Money it would have cost alone (null: no estimate)")
