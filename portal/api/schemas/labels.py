"""Labels in the API: the region's register, a cluster's labels and its path to the next
label, and the region's published register."""

from __future__ import annotations

import marshmallow as ma

from portal.api.schemas.common import PageArgsSchema, choice_arg, page_schema
from portal.labels.public_register import WITHIN_CHOICES


class LabelArgsSchema(PageArgsSchema):
    status = choice_arg(["current", "expired"])
    within = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.OneOf(WITHIN_CHOICES),
        metadata={"description": "Expiring within so many months"},
    )
    level = ma.fields.String(load_default="", validate=ma.validate.Length(max=40))
    scheme = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))


class LabelSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    cluster_id = ma.fields.Integer(required=True)
    cluster_name = ma.fields.String(required=True)
    scheme = ma.fields.String(required=True)
    scheme_version = ma.fields.String(required=True)
    level = ma.fields.String(required=True)
    awarded_on = ma.fields.Date(required=True)
    expires_on = ma.fields.Date(required=True)
    score = ma.fields.Decimal(
        allow_none=True,
        as_string=True,
        required=True,
        metadata={"description": "Only for those the privacy policy shows the cluster's values"},
    )


LabelPageSchema = page_schema(LabelSchema, "LabelPageSchema")


class RuleSchema(ma.Schema):
    rule = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    verdict = ma.fields.String(
        required=True, metadata={"description": "met, not_met or needs_evidence"}
    )
    reason = ma.fields.String(required=True)
    indicators = ma.fields.List(ma.fields.String(), required=True)


class HeldSchema(ma.Schema):
    awarded_on = ma.fields.Date(required=True)
    expires_on = ma.fields.Date(required=True)


class LevelCheckSchema(ma.Schema):
    level = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    eligible = ma.fields.Boolean(required=True)
    held = ma.fields.Nested(HeldSchema, allow_none=True, required=True)
    would_expire = ma.fields.Date(allow_none=True, required=True)
    rules = ma.fields.List(ma.fields.Nested(RuleSchema), required=True)


class LabelCheckSchema(ma.Schema):
    scheme = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    on = ma.fields.Date(required=True)
    next_level = ma.fields.String(allow_none=True, required=True)
    levels = ma.fields.List(ma.fields.Nested(LevelCheckSchema), required=True)


class LabelChecksSchema(ma.Schema):
    cluster_id = ma.fields.Integer(required=True)
    checks = ma.fields.List(ma.fields.Nested(LabelCheckSchema), required=True)


class PublicLabelSchema(ma.Schema):
    """A row of the published register: nothing more leaves the portal."""

    id = ma.fields.Integer(required=True)
    cluster = ma.fields.String(required=True)
    scheme = ma.fields.String(required=True)
    scheme_version = ma.fields.String(required=True)
    level = ma.fields.String(required=True)
    awarded_on = ma.fields.Date(required=True)
    expires_on = ma.fields.Date(required=True)
    score = ma.fields.Decimal(
        allow_none=True,
        as_string=True,
        required=True,
        metadata={"description": "Only if the region publishes its scores"},
    )


PublicLabelPageSchema = page_schema(PublicLabelSchema, "PublicLabelPageSchema")
