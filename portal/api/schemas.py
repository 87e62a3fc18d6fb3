"""Marshmallow schemas of the API: they validate requests and generate the OpenAPI document.
Types and shapes only; what a value may be (ranges, dates in order, who may) is the services'."""

from __future__ import annotations

import marshmallow as ma

from portal.plans.models import ActionStatus, Priority
from portal.web.pagination import PER_PAGE_DEFAULT, PER_PAGE_MAX


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(
        load_default=PER_PAGE_DEFAULT, validate=ma.validate.Range(min=1, max=PER_PAGE_MAX)
    )


class PageSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)


class ClusterArgsSchema(PageArgsSchema):
    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=100),
        metadata={"description": "Words in the cluster's name or sector"},
    )
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


class ClusterPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ClusterSchema), required=True)


STATUSES = [s.value for s in ActionStatus]


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


class ActionPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ActionSchema), required=True)


class ActionPatchSchema(ma.Schema):
    """What the API may change of an action; the plan's quick edit and the action form check
    the values (portal.plans.services.update_action)."""

    class Meta:
        unknown = ma.RAISE

    title = ma.fields.String(validate=ma.validate.Length(max=200))
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    progress = ma.fields.Integer(allow_none=True)
    due_date = ma.fields.Date(allow_none=True)
