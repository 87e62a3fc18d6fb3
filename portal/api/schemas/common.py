"""What every list of the API shares: the page arguments and the page's envelope."""

from __future__ import annotations

import marshmallow as ma

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


def page_schema(item_schema: type[ma.Schema], name: str) -> type[PageSchema]:
    """A page of ``item_schema`` items, named ``name`` in the OpenAPI document."""
    return type(
        name, (PageSchema,), {"items": ma.fields.List(ma.fields.Nested(item_schema), required=True)}
    )


def text_arg(max_length: int = 100, **metadata) -> ma.fields.String:
    """A free-text query argument (words to look for), empty by default."""
    return ma.fields.String(
        load_default="", validate=ma.validate.Length(max=max_length), metadata=metadata
    )


def choice_arg(choices, default: str = "", **metadata) -> ma.fields.String:
    """A query argument that is one of ``choices`` (or empty when ``default`` is)."""
    allowed = list(choices) + ([""] if default == "" else [])
    return ma.fields.String(
        load_default=default, validate=ma.validate.OneOf(allowed), metadata=metadata
    )


def id_arg(**metadata) -> ma.fields.Integer:
    return ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1, max=2**31 - 1),
        metadata=metadata,
    )
