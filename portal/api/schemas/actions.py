"""A plan's actions in the API: the list, one action, a new one and a change.
Types and shapes only; what a value may be (ranges, dates in order, who may) is the services'."""

from __future__ import annotations

import marshmallow as ma

from portal.api.schemas.common import PageArgsSchema, page_schema
from portal.plans.models import ActionStatus, Priority

STATUSES = [s.value for s in ActionStatus]
PRIORITIES = [p.value for p in Priority]


class ActionArgsSchema(PageArgsSchema):
    status = ma.fields.String(load_default="", validate=ma.validate.OneOf(["", *STATUSES]))
    sort = ma.fields.String(
        load_default="due",
        validate=ma.validate.OneOf(["due", "-due", "title", "status", "progress", "-progress"]),
    )


class ActionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    plan_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    status = ma.fields.Enum(ActionStatus, by_value=True, required=True)
    progress = ma.fields.Integer(required=True)
    priority = ma.fields.Enum(Priority, by_value=True, required=True)
    start_date = ma.fields.Date(allow_none=True, required=True)
    due_date = ma.fields.Date(allow_none=True, required=True)
    owner_id = ma.fields.Integer(allow_none=True, required=True)
    cluster_ids = ma.fields.Method("_cluster_ids", required=True)
    version = ma.fields.Integer(required=True)

    def _cluster_ids(self, action) -> list[int]:
        return sorted(c.id for c in action.clusters)


ActionPageSchema = page_schema(ActionSchema, "ActionPageSchema")


class ActionPatchSchema(ma.Schema):
    """What the API may change of an action; the plan's quick edit and the action form check
    the values (portal.plans.services.update_action)."""

    class Meta:
        unknown = ma.RAISE

    title = ma.fields.String(validate=ma.validate.Length(max=200))
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    progress = ma.fields.Integer(allow_none=True)
    due_date = ma.fields.Date(allow_none=True)


def _effort(description: str) -> ma.fields.Decimal:
    return ma.fields.Decimal(
        allow_none=True, as_string=True, places=None, metadata={"description": description}
    )


class ActionCreateSchema(ma.Schema):
    """A new action of a plan: the action form's fields (checked by
    portal.plans.services.create_action, as the form is)."""

    class Meta:
        unknown = ma.RAISE

    title = ma.fields.String(required=True, validate=ma.validate.Length(max=200))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    owner_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=2**31 - 1))
    cluster_ids = ma.fields.List(
        ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1)),
        validate=ma.validate.Length(max=500),
        metadata={"description": "Responsible clusters (default: the plan's cluster)"},
    )
    start_date = ma.fields.Date(allow_none=True)
    due_date = ma.fields.Date(allow_none=True)
    status = ma.fields.String(load_default="planned", validate=ma.validate.OneOf(STATUSES))
    progress = ma.fields.Integer(load_default=0, allow_none=True)
    priority = ma.fields.String(load_default="normal", validate=ma.validate.OneOf(PRIORITIES))
    weight = ma.fields.Decimal(allow_none=True, allow_nan=False, as_string=True)
    workshop_id = ma.fields.Integer(
        allow_none=True, validate=ma.validate.Range(min=1, max=2**31 - 1)
    )
    indicators = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=300)),
        validate=ma.validate.Length(max=200),
        metadata={"description": "Indicators it aims to improve: set/version/indicator"},
    )
    planned_hours = _effort("Hours planned")
    spent_hours = _effort("Hours spent")
    planned_money = _effort("Money planned, in the region's currency")
    spent_money = _effort("Money spent, in the region's currency")
