"""Clusters and their member organisations in the API."""

from __future__ import annotations

import marshmallow as ma

from portal.api.schemas.common import PageArgsSchema, choice_arg, page_schema, text_arg
from portal.clusters.models import MemberType


class ClusterArgsSchema(PageArgsSchema):
    q = text_arg(description="Words in the cluster's name or sector")
    sector = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    sort = ma.fields.String(
        load_default="name", validate=ma.validate.OneOf(["name", "-name", "sector"])
    )


class ClusterSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    sector = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    website = ma.fields.String(required=True)
    founded_year = ma.fields.Integer(allow_none=True, required=True)
    programme_level = ma.fields.String(required=True)
    member_count = ma.fields.Integer(required=True)
    version = ma.fields.Integer(required=True)


ClusterPageSchema = page_schema(ClusterSchema, "ClusterPageSchema")

MEMBER_TYPES = [t.value for t in MemberType]


class MemberArgsSchema(PageArgsSchema):
    q = text_arg(description="Words in the member's name or city")
    type = choice_arg(MEMBER_TYPES, description="The kind of organisation")


class MemberSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    cluster_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    member_type = ma.fields.Enum(MemberType, by_value=True, required=True)
    city = ma.fields.String(required=True)
    website = ma.fields.String(required=True)
    joined_year = ma.fields.Integer(allow_none=True, required=True)
    version = ma.fields.Integer(required=True)


MemberPageSchema = page_schema(MemberSchema, "MemberPageSchema")
