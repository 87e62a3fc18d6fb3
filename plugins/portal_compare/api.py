"""The forum's comparisons in the JSON API (the ``api_blueprints`` hook), read only: the
portfolio scorecard's aggregates per indicator, from the same comparison kind and the same
kept statistics as the forum's page. The core's privacy policy decides (``context_for``):
an aggregate of fewer than the region's smallest group is null, and no cluster's own row is
answered here."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from portal.toolkit import (
    ApiBlueprint,
    _,
    api_abort,
    api_documented,
    current_locale,
    current_tenant,
    current_user,
    indicator_sets_for,
    pick_text,
    require,
)
from portal_compare.forumstats import read_page_state, remember_state
from portal_compare.kinds import forum_scorecard
from portal_compare.privacy import context_for
from portal_compare.stats import LIGHTS

blp = ApiBlueprint(
    "api_compare",
    __name__,
    url_prefix="/api/v1/<tenant>/compare",
    description="The forum's benchmark aggregates, as the privacy policy allows (plugin compare).",
)


class ForumArgsSchema(ma.Schema):
    indicator_set = ma.fields.String(
        data_key="set",
        load_default="",
        validate=ma.validate.Length(max=100),
        metadata={"description": "An indicator set the region uses (default: the first)"},
    )
    version = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=40),
        metadata={"description": "Its version (default: the newest)"},
    )


class SummarySchema(ma.Schema):
    count = ma.fields.Integer(required=True, metadata={"description": "Clusters with a value"})
    missing = ma.fields.Integer(required=True)
    q1 = ma.fields.Float(required=True)
    median = ma.fields.Float(required=True)
    q3 = ma.fields.Float(required=True)
    shares = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.OneOf(LIGHTS)),
        values=ma.fields.Float(),
        required=True,
        metadata={"description": "Share of the clusters per traffic light, 0 to 1"},
    )


class IndicatorSchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    group_id = ma.fields.String(required=True)
    group = ma.fields.String(required=True)
    minimum = ma.fields.Float(required=True)
    maximum = ma.fields.Float(required=True)
    higher_is_better = ma.fields.Boolean(required=True)
    unit = ma.fields.String(required=True)
    summary = ma.fields.Nested(
        SummarySchema,
        required=True,
        allow_none=True,
        metadata={"description": "null: no value, or fewer clusters than the smallest group"},
    )


class SetSchema(ma.Schema):
    indicator_set = ma.fields.String(required=True)
    set_version = ma.fields.String(required=True)
    title = ma.fields.String(required=True)


class ForumSchema(ma.Schema):
    indicator_set = ma.fields.String(required=True)
    set_version = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    clusters = ma.fields.Integer(
        required=True, metadata={"description": "Clusters counted (their newest full round)"}
    )
    partial = ma.fields.Integer(
        required=True, metadata={"description": "Of them counted with a partial round"}
    )
    min_group = ma.fields.Integer(
        required=True, metadata={"description": "The region's smallest group an aggregate shows"}
    )
    suppressed = ma.fields.Boolean(required=True)
    indicators = ma.fields.List(ma.fields.Nested(IndicatorSchema), required=True)
    strengths = ma.fields.List(ma.fields.String(), required=True)
    weaknesses = ma.fields.List(ma.fields.String(), required=True)
    sets = ma.fields.List(ma.fields.Nested(SetSchema), required=True)


def _summary(summary) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        "count": summary.count,
        "missing": summary.missing,
        "q1": summary.q1,
        "median": summary.median,
        "q3": summary.q3,
        "shares": {light: summary.share(light) for light in LIGHTS},
    }


def _chosen(sets, set_id: str, version: str):
    if not set_id:
        return sets[0] if sets else None
    for candidate in sets:
        if candidate.id == set_id and (not version or candidate.version == version):
            return candidate
    message = _("The region uses no such indicator set version.")
    api_abort(422, message=message, errors={"set": [message]})
    return None


@blp.route("/forum")
@blp.arguments(ForumArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ForumSchema)
@api_documented(blp, 422)
def forum(indicator_set: str, version: str):
    """The forum's portfolio scorecard as aggregates: per indicator the clusters counted,
    quartiles, median and the traffic lights' shares; the strongest and weakest indicators
    by the median. As the forum's page computes them (the kept statistics), an aggregate of
    too few clusters null."""
    tenant = current_tenant()
    require(current_user, "compare.view", tenant)
    sets = indicator_sets_for(tenant.id)
    chosen = _chosen(sets, indicator_set, version)
    if chosen is None:
        api_abort(404, message=_("The region uses no indicator set."))
    locale = current_locale()
    # No rows are answered: one row a page keeps the scorecard's work to the aggregates.
    context = context_for(
        current_user, tenant, chosen, locale=locale, options={"page": 1, "per_page": 1}
    )
    remember_state(tenant.id, read_page_state(tenant.id))  # the page's kept statistics
    try:
        card = forum_scorecard(context)
    finally:
        remember_state(tenant.id, None)
    return {
        "indicator_set": chosen.id,
        "set_version": chosen.version,
        "title": pick_text(chosen.title, locale),
        "clusters": card.clusters,
        "partial": card.partial_count,
        "min_group": context.min_group,
        "suppressed": card.suppressed,
        "indicators": [
            {
                "id": info.id,
                "name": info.name,
                "group_id": info.group_id,
                "group": info.group,
                "minimum": info.minimum,
                "maximum": info.maximum,
                "higher_is_better": info.higher_is_better,
                "unit": info.unit or "",
                "summary": _summary(card.summaries.get(info.id)),
            }
            for info in card.indicators
        ],
        "strengths": [s.indicator.id for s in card.strengths],
        "weaknesses": [s.indicator.id for s in card.weaknesses],
        "sets": [
            {"indicator_set": s.id, "set_version": s.version, "title": pick_text(s.title, locale)}
            for s in sets
        ],
    }
