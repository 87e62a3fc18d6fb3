"""The search page: ``/<region>/search?q=...`` (every kind, grouped) and ``&kind=...`` (a page of
one kind). A plain GET form; htmx asks the same URL for just the results as you type."""

from __future__ import annotations

from flask import Blueprint, g, render_template, request
from flask_login import current_user

from portal.permissions import require
from portal.search import services
from portal.search.documents import KINDS
from portal.search.query import QueryProblem, parse
from portal.web.htmx import wants_fragment
from portal.web.pagination import page_args

bp = Blueprint("search", __name__, url_prefix="/<tenant>")


@bp.route("/search")
def results():
    require(current_user, "tenant.view", g.tenant)
    raw = request.args.get("q", "")
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    context = {
        "q": raw[:300],
        "kind": kind,
        "problem": None,
        "results": None,
        "hits": None,
        "terms": None,
        "labels": services.KIND_LABELS,
        "link": services.link,
        "per_group": services.PER_GROUP,
    }
    searched = "q" in request.args
    try:
        terms = parse(raw)
    except QueryProblem as problem:
        terms = None
        if searched:
            context["problem"] = problem.message
    if terms is not None:
        visible = services.visibility(current_user, g.tenant)
        context["terms"] = terms
        if kind and kind in visible.kinds:
            page, _per_page = page_args()
            context["hits"] = services.one_kind(terms, visible, kind, page)
        else:
            context["kind"] = ""
            context["results"] = services.overview(terms, visible)
    if wants_fragment("search-results"):
        return render_template("search/_results.html", **context)
    return render_template("search/index.html", **context)
