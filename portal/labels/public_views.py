"""The public label register: pages, CSV, JSON and an Atom feed, no sign-in needed.

``/register/`` lists every region that publishes its register, ``/register/<region>/`` one of
them (a region that does not publish, or does not exist, is a 404 for everyone). The URLs are
the platform's, not the region's (``/<tenant>/...`` asks for a member): ``register`` is one of
the reserved words no region may take as its short name.

Every answer carries an ETag of what it shows (the regions' data versions and switches, the
language, the day, the query) and answers 304 to a matching If-None-Match; an anonymous answer
may be kept by shared caches for five minutes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import Blueprint, Response, abort, current_app, g, jsonify, render_template, request
from flask import url_for as flask_url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.config import SUPPORTED_LOCALES
from portal.extensions import limiter
from portal.labels import public_register as register
from portal.labels.public_feed import atom_feed
from portal.labels.registry import level_badge, scheme_title
from portal.plans.spreadsheets import to_csv
from portal.tenancy.models import Tenant
from portal.web.pagination import page_args

bp = Blueprint("public_register", __name__, url_prefix="/register")
MAX_AGE = 300


def _rate_limit() -> str:
    return current_app.config["PUBLIC_REGISTER_RATE_LIMIT"]


# One budget per address for every page, download and feed of the register.
rate_limited = limiter.shared_limit(_rate_limit, scope="public-register")


def _regions(region: str | None) -> list[Tenant]:
    if region is None:
        return register.published_regions()
    found = register.published_regions(region)
    if not found:
        abort(404)
    return found


def _language() -> str:
    """``?lang=`` chooses the language without a session (a cacheable URL per language)."""
    chosen = request.args.get("lang", "")
    if chosen in SUPPORTED_LOCALES:
        g.locale_override = chosen
    return str(get_locale() or "en")


def _etag(regions: list[Tenant], kind: str, today: date) -> str:
    viewer = current_user.get_id() if kind == "html" else None  # the page names who is in
    query = sorted(request.args.items(multi=True))
    return register.fingerprint(regions, kind, _language(), today.isoformat(), query, viewer)


def _cacheable(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    if current_user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.vary.update(("Accept-Language", "Cookie"))
    return response


def _not_modified(etag: str) -> Response | None:
    # Weak comparison (RFC 9110 13.1.2): a proxy that compresses the body weakens the tag.
    if request.if_none_match.contains_weak(etag):
        return _cacheable(Response(status=304), etag)
    return None


def _own_url(endpoint: str, region: str | None, /, **values) -> str:
    name = f"public_register.{'region_' if region else 'platform_'}{endpoint}"
    if region:
        values["region"] = region  # the path's (a region's page has no region filter)
    return flask_url_for(name, **values)


def _page(region: str | None):
    today = date.today()
    regions = _regions(region)
    etag = _etag(regions, "html", today)
    if (unchanged := _not_modified(etag)) is not None:
        return unchanged
    filters = _filters(region)
    pagination = register.labels_page(regions, filters, today, *page_args())
    downloads = filters.query()
    html = render_template(
        "labels/public_register.html",
        region=regions[0] if region else None,
        regions=regions,
        pagination=pagination,
        filters=filters,
        today=today,
        scheme_options=register.scheme_options(),
        within_choices=register.WITHIN_CHOICES,
        scores_shown=any(r.register_scores_published for r in regions),
        csv_url=_own_url("csv", region, **downloads),
        json_url=_own_url("json", region, **downloads),
        feed_url=_own_url("feed", region),
        public_page=not current_user.is_authenticated,
    )
    return _cacheable(Response(html, mimetype="text/html"), etag)


def _filters(region: str | None) -> register.Filters:
    filters = register.parse_filters(request.args)
    return replace(filters, region="") if region else filters


def _status(label: register.PublicLabel, today: date) -> str:
    return "expired" if label.expired(today) else "current"


def _csv(region: str | None):
    today = date.today()
    regions = _regions(region)
    etag = _etag(regions, "csv", today)
    if (unchanged := _not_modified(etag)) is not None:
        return unchanged
    labels = register.all_labels(regions, _filters(region), today)
    scores = any(r.register_scores_published for r in regions)
    header = [_("Cluster"), _("Region"), _("Label level"), _("Scheme"), _("Scheme version")]
    header += [_("Awarded on"), _("Valid until"), _("Status")] + ([_("Score")] if scores else [])
    status_names = {"current": _("Valid"), "expired": _("Expired")}
    rows = []
    for label in labels:
        row = [label.cluster, label.region_name, level_badge(*_level_key(label))[0]]
        row += [scheme_title(label.scheme), label.scheme_version]
        row += [label.awarded_on.isoformat(), label.expires_on.isoformat()]
        row += [status_names[_status(label, today)]]
        rows.append(row + ([label.score if label.score is not None else ""] if scores else []))
    name = f"label-register-{region or 'all'}.csv"
    response = Response(
        to_csv(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return _cacheable(response, etag)


def _level_key(label: register.PublicLabel) -> tuple[str, str, str]:
    return label.scheme, label.scheme_version, label.level


def _json_item(label: register.PublicLabel, today: date) -> dict:
    item = {
        "id": label.id,
        "cluster": label.cluster,
        "region": {
            "slug": label.region_slug,
            "name": label.region_name,
            "url": flask_url_for(
                "public_register.region_page", region=label.region_slug, _external=True
            ),
        },
        "scheme": {"id": label.scheme, "title": scheme_title(label.scheme)},
        "scheme_version": label.scheme_version,
        "level": {"id": label.level, "name": level_badge(*_level_key(label))[0]},
        "awarded_on": label.awarded_on.isoformat(),
        "valid_until": label.expires_on.isoformat(),
        "status": _status(label, today),
    }
    if label.score is not None:
        item["score"] = str(label.score)  # a decimal as text: no float rounding on the way
    return item


def _json(region: str | None):
    today = date.today()
    regions = _regions(region)
    etag = _etag(regions, "json", today)
    if (unchanged := _not_modified(etag)) is not None:
        return unchanged
    filters = _filters(region)
    page, per_page = page_args()
    result = register.labels_page(regions, filters, today, page, per_page)

    def link(number: int) -> str:
        query = dict(filters.query(), page=number, per_page=result.per_page)
        return _own_url("json", region, _external=True, **query)

    links = {"self": link(result.page), "first": link(1), "last": link(result.pages)}
    if result.has_prev:
        links["prev"] = link(result.page - 1)
    if result.has_next:
        links["next"] = link(result.page + 1)
    response = jsonify(
        {
            "items": [_json_item(label, today) for label in result.items],
            "page": result.page,
            "per_page": result.per_page,
            "total": result.total,
            "pages": result.pages,
            "links": links,
        }
    )
    return _cacheable(response, etag)


def _feed(region: str | None):
    today = date.today()
    regions = _regions(region)
    etag = _etag(regions, "feed", today)
    if (unchanged := _not_modified(etag)) is not None:
        return unchanged
    awarded, expiring = register.feed_labels(regions, today)
    body = atom_feed(
        title=_("Label register of %(region)s", region=regions[0].name)
        if region
        else _("Public label register"),
        page_url=_own_url("page", region, _external=True),
        feed_url=_own_url("feed", region, _external=True),
        language=_language(),
        awarded=awarded,
        expiring=expiring,
    )
    return _cacheable(Response(body, mimetype="application/atom+xml"), etag)


# --- the routes: the platform's register and each region's -------------------------------


@bp.route("/")
@rate_limited
def platform_page():
    return _page(None)


@bp.route("/labels.csv")
@rate_limited
def platform_csv():
    return _csv(None)


@bp.route("/labels.json")
@rate_limited
def platform_json():
    return _json(None)


@bp.route("/feed.atom")
@rate_limited
def platform_feed():
    return _feed(None)


@bp.route("/<region>/")
@rate_limited
def region_page(region: str):
    return _page(region)


@bp.route("/<region>/labels.csv")
@rate_limited
def region_csv(region: str):
    return _csv(region)


@bp.route("/<region>/labels.json")
@rate_limited
def region_json(region: str):
    return _json(region)


@bp.route("/<region>/feed.atom")
@rate_limited
def region_feed(region: str):
    return _feed(region)
