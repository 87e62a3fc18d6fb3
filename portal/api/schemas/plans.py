"""Improvement plans with their progress in the API."""

from __future__ import annotations

import marshmallow as ma

from portal.api.schemas.common import PageArgsSchema, choice_arg, id_arg, page_schema, text_arg
from portal.api.schemas.programmes import ProgressSchema
from portal.plans.listing import SORTS, STATES
from portal.plans.models import PlanKind


class PlanArgsSchema(PageArgsSchema):
    cluster_id = id_arg(description="A cluster's own plans")
    programme_id = id_arg(description="The plans of a programme")
    kind = choice_arg([k.value for k in PlanKind])
    state = choice_arg(STATES, description="Running, upcoming or ended today")
    q = text_arg(description="Words in the plan's title")
    sort = choice_arg(SORTS, default="-start")


class PlanSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.Enum(PlanKind, by_value=True, required=True)
    title = ma.fields.String(required=True)
    cluster_id = ma.fields.Integer(allow_none=True, required=True)
    programme_id = ma.fields.Integer(allow_none=True, required=True)
    start_date = ma.fields.Date(required=True)
    end_date = ma.fields.Date(required=True)
    goals = ma.fields.String(required=True)
    focus_areas = ma.fields.String(required=True)
    progress = ma.fields.Nested(ProgressSchema, required=True)
    version = ma.fields.Integer(required=True)


PlanPageSchema = page_schema(PlanSchema, "PlanPageSchema")
