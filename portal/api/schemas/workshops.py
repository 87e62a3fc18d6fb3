"""Workshops and their registrations in the API."""

from __future__ import annotations

import marshmallow as ma

from portal.api.schemas.common import PageArgsSchema, choice_arg, id_arg, page_schema, text_arg
from portal.workshops.listing import SORTS, WHEN
from portal.workshops.models import RegistrationStatus


class WorkshopArgsSchema(PageArgsSchema):
    when = choice_arg(WHEN, description="Upcoming (from today, the region's day) or past")
    programme_id = id_arg(description="The workshops of a programme")
    q = text_arg(description="Words in the title")
    sort = choice_arg(SORTS, description="Default: upcoming soonest first, else newest first")


class WorkshopSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    programme_id = ma.fields.Integer(allow_none=True, required=True)
    programme_name = ma.fields.String(allow_none=True, required=True)
    day = ma.fields.Date(required=True)
    start_time = ma.fields.Time(required=True)
    end_time = ma.fields.Time(required=True)
    location = ma.fields.String(required=True)
    online_url = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    capacity = ma.fields.Integer(allow_none=True, required=True)
    registered = ma.fields.Integer(required=True, metadata={"description": "Seats taken"})
    cancelled = ma.fields.Boolean(required=True)
    version = ma.fields.Integer(required=True)


WorkshopPageSchema = page_schema(WorkshopSchema, "WorkshopPageSchema")


class RegistrationSchema(ma.Schema):
    """A registration; e-mail, clusters and answers only for the workshop's managers."""

    id = ma.fields.Integer(required=True)
    workshop_id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    status = ma.fields.Enum(RegistrationStatus, by_value=True, required=True)
    requested_at = ma.fields.AwareDateTime(required=True)
    email = ma.fields.String()
    clusters = ma.fields.List(ma.fields.String())
    answers = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


RegistrationPageSchema = page_schema(RegistrationSchema, "RegistrationPageSchema")


class RegisterSchema(ma.Schema):
    """Registering oneself: the answers to the workshop's questions, by question id."""

    class Meta:
        unknown = ma.RAISE

    answers = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Regexp(r"^\d{1,10}$")),
        values=ma.fields.String(allow_none=True, validate=ma.validate.Length(max=5000)),
        load_default=dict,
        validate=ma.validate.Length(max=100),
    )
