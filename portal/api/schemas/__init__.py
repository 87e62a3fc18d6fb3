"""Marshmallow schemas of the API, one module per resource: they validate requests and
generate the OpenAPI document. Types and shapes only; what a value may be (ranges, dates in
order, who may) is the services'."""

from portal.api.schemas.actions import (
    ActionArgsSchema,
    ActionCreateSchema,
    ActionPageSchema,
    ActionPatchSchema,
    ActionSchema,
)
from portal.api.schemas.clusters import (
    ClusterArgsSchema,
    ClusterPageSchema,
    ClusterSchema,
    MemberArgsSchema,
    MemberPageSchema,
    MemberSchema,
)
from portal.api.schemas.common import PageArgsSchema, PageSchema, page_schema

__all__ = [
    "ActionArgsSchema",
    "ActionCreateSchema",
    "ActionPageSchema",
    "ActionPatchSchema",
    "ActionSchema",
    "ClusterArgsSchema",
    "ClusterPageSchema",
    "ClusterSchema",
    "MemberArgsSchema",
    "MemberPageSchema",
    "MemberSchema",
    "PageArgsSchema",
    "PageSchema",
    "page_schema",
]
