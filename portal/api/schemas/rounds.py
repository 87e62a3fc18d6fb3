"""Benchmarking rounds in the API: read as the privacy policy allows, entered by the roles
that may."""

from __future__ import annotations

import marshmallow as ma

from portal.api.schemas.common import PageArgsSchema, choice_arg, id_arg, page_schema
from portal.benchmarking.models import RoundKind
from portal.benchmarking.reading import SORTS

KINDS = [k.value for k in RoundKind]


class RoundArgsSchema(PageArgsSchema):
    cluster_id = id_arg(description="One cluster's rounds")
    indicator_set = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    kind = choice_arg(KINDS)
    since = ma.fields.Date(load_default=None, metadata={"description": "Held on or after"})
    until = ma.fields.Date(load_default=None, metadata={"description": "Held on or before"})
    sort = choice_arg(SORTS, default="-held_on")


class ValueSchema(ma.Schema):
    indicator_id = ma.fields.String(required=True)
    value = ma.fields.Float(required=True)
    light = ma.fields.String(required=True, metadata={"description": "green, yellow or red"})
    comment = ma.fields.String(required=True)


class RoundSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    cluster_id = ma.fields.Integer(required=True)
    indicator_set = ma.fields.String(required=True)
    set_version = ma.fields.String(required=True)
    held_on = ma.fields.Date(required=True)
    kind = ma.fields.Enum(RoundKind, by_value=True, required=True)
    assessor = ma.fields.String(required=True)
    confirmed = ma.fields.Boolean(required=True)
    values = ma.fields.Method("_values", required=True)
    version = ma.fields.Integer(required=True)

    def _values(self, round_) -> list[dict]:
        return [ValueSchema().dump(v) for v in sorted(round_.values, key=lambda v: v.indicator_id)]


RoundPageSchema = page_schema(RoundSchema, "RoundPageSchema")


class ValueInSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    value = ma.fields.Float(required=True, allow_none=True, allow_nan=False)
    comment = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class RoundCreateSchema(ma.Schema):
    """A new round of the cluster, as the round form enters it: every value is checked
    against its indicator's scale by the benchmarking services."""

    class Meta:
        unknown = ma.RAISE

    indicator_set = ma.fields.String(required=True, validate=ma.validate.Length(max=100))
    set_version = ma.fields.String(required=True, validate=ma.validate.Length(max=40))
    held_on = ma.fields.Date(required=True)
    kind = ma.fields.String(load_default="", validate=ma.validate.OneOf(["", *KINDS]))
    assessor = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    notes = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    confirm = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "A benchmarking or audit whose result is final (locked)"},
    )
    values = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=100)),
        values=ma.fields.Nested(ValueInSchema),
        required=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "By indicator id"},
    )
