"""Programmes with their progress, and their participants, in the API."""

from __future__ import annotations

import marshmallow as ma

from portal.api.schemas.common import PageArgsSchema, choice_arg, page_schema, text_arg
from portal.programmes.listing import SORTS, STATES


class ProgressSchema(ma.Schema):
    """Weighted progress of the actions counted (cancelled ones do not count)."""

    percent = ma.fields.Float(required=True, metadata={"description": "0 to 100"})
    actions = ma.fields.Integer(required=True, metadata={"description": "Actions counted"})
    done = ma.fields.Integer(required=True)


class ProgrammeArgsSchema(PageArgsSchema):
    q = text_arg(description="Words in the programme's name")
    state = choice_arg(STATES, description="Running, upcoming or ended today")
    sort = choice_arg(SORTS, default="-start")


class ProgrammeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    start_date = ma.fields.Date(required=True)
    end_date = ma.fields.Date(required=True)
    participant_count = ma.fields.Integer(required=True)
    progress = ma.fields.Nested(ProgressSchema, required=True)
    version = ma.fields.Integer(required=True)


ProgrammePageSchema = page_schema(ProgrammeSchema, "ProgrammePageSchema")


class ProgrammeDetailSchema(ProgrammeSchema):
    overdue_count = ma.fields.Integer(
        required=True, metadata={"description": "Open actions past their due date"}
    )
    joint_plan_count = ma.fields.Integer(required=True)
    own_plan_count = ma.fields.Integer(
        required=True, metadata={"description": "The clusters' own (individual) plans"}
    )
    workshop_count = ma.fields.Integer(required=True)
    milestone_count = ma.fields.Integer(required=True)


class ParticipantArgsSchema(PageArgsSchema):
    q = text_arg(description="Words in the cluster's name or sector")


class ParticipantSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    cluster_id = ma.fields.Integer(required=True)
    cluster_name = ma.fields.String(required=True)
    goal = ma.fields.String(required=True)
    progress = ma.fields.Nested(
        ProgressSchema,
        required=True,
        metadata={"description": "On the cluster's own plans in the programme"},
    )


ParticipantPageSchema = page_schema(ParticipantSchema, "ParticipantPageSchema")
