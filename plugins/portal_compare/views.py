"""The comparison pages: the start page, a cluster's comparisons, the forum's scorecard, their
printable reports and their Excel files.

Every comparison comes from a comparison kind (``comparison_kinds``: this plugin's four and
those of other plugins the region switched on); privacy is applied inside the kinds. The
pages check who may look (``compare.view`` for the forum's aggregates, ``compare.cluster``
for one cluster's own values) before anything is computed.

The heavy pages answer ``304 Not Modified`` to a repeat visit without computing: their ETag
is made of the region's rounds fingerprint, the comparison settings, the chosen options and
references, the language and the viewer (user, role, clusters, session), so no two viewers
share a cached page. The forum's page reads what changed (settings, reference portfolios,
clusters, rounds) in two queries before anything else, and takes the forum's statistics from
an in-process cache under the same fingerprints (``portal_compare.forumstats``). Its heat map
comes in pages of ``kinds.PER_PAGE`` clusters, sorted as a whole first; the printable report
(and its PDF) lists the first ``kinds.REPORT_ROWS`` of them and says where the rest are; the
Excel file has every row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

from flask import Response, current_app, g, make_response, request, session, url_for
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.routing import BuildError

from portal.toolkit import (
    Cluster,
    Role,
    _,
    cache_scopes,
    cached_page,
    cluster_ids_of,
    cluster_rounds,
    comparison_kinds,
    current_tenant,
    current_user,
    db,
    followup_targets,
    get_or_404,
    indicator_sets_for,
    is_htmx,
    joint_plans,
    latest_rounds,
    may,
    pdf_response,
    pick_text,
    render_template,
    require,
    role_in,
    rounds_fingerprint,
    values_view,
    wants_fragment,
)
from portal_compare import charts, export
from portal_compare.blueprint import bp
from portal_compare.forumstats import PageState, read_page_state, remember_state
from portal_compare.kinds import REPORT_ROWS
from portal_compare.privacy import context_for
from portal_compare.references import usable_references

OWN_KINDS = frozenset({"over-time", "against-forum", "scorecard", "references", "forum-over-time"})
RESULTS_ID = "compare-results"  # the fragment htmx swaps
MAX_REFERENCES = 10
FOLLOWUP_LIMIT = 5  # weak indicators offered as follow-ups, per list


@bp.context_processor
def _chart_helpers():
    return {"charts": charts}


def _locale() -> str:
    return str(get_locale() or "en")


def _url(endpoint: str, **values) -> str | None:
    """A page of this plugin (or another part of the portal) if it exists yet."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# --- choosing the indicator set -------------------------------------------------------------


def _chosen_set(sets, default=None):
    """The set version asked for (``set=id&version=v`` or ``set=id@v``), else ``default``,
    else the first the region uses (the newest version)."""
    set_id = request.args.get("set", "")
    version = request.args.get("version", "")
    if "@" in set_id:
        set_id, version = set_id.split("@", 1)
    if set_id:
        for candidate in sets:
            if candidate.id == set_id and (not version or candidate.version == version):
                return candidate
    if default is not None:
        return default
    return sets[0] if sets else None


def _set_title(indicator_set) -> str:
    return pick_text(indicator_set.title, _locale())


def _set_label(indicator_set) -> str:
    """The set's title, with its version unless the title says it."""
    if indicator_set is None:
        return ""
    title = _set_title(indicator_set)
    return title if indicator_set.version in title else f"{title} ({indicator_set.version})"


def _set_options(sets) -> list[tuple[str, str]]:
    return [(f"{s.id}@{s.version}", _set_label(s)) for s in sets]


# --- kinds ----------------------------------------------------------------------------------


def _is_coordinator(tenant) -> bool:
    return bool(current_user.is_platform_admin) or role_in(current_user, tenant) == Role.COORDINATOR


def _kinds(tenant, scope: str, indicator_set) -> list:
    coordinator = _is_coordinator(tenant)
    return [
        kind
        for kind in comparison_kinds(tenant.id)
        if kind.scope == scope
        and kind.works_on(indicator_set)
        and (coordinator or not kind.coordinators_only)
    ]


@dataclass
class Shown:
    """One comparison on a page: its kind, its result and its fragment."""

    kind: Any
    result: Any = None
    html: Markup = field(default_factory=Markup)
    failed: bool = False


def _compute(kinds, context) -> list[tuple[Any, Any]]:
    """This plugin's kinds and their results (for the Excel files), reading rounds once."""
    g.compare_rounds = {}
    try:
        return [(kind, kind.compute(context)) for kind in kinds if kind.id in OWN_KINDS]
    finally:
        g.pop("compare_rounds", None)


def _show(kinds, context, page) -> list[Shown]:
    """Compute and render every kind; another plugin's failing kind is reported on the page
    (and in the log) instead of breaking it. The kinds share the rounds they read."""
    g.compare_rounds = {}
    try:
        return _show_each(kinds, context, page)
    finally:
        g.pop("compare_rounds", None)


def _show_each(kinds, context, page) -> list[Shown]:
    shown = []
    for kind in kinds:
        try:
            result = kind.compute(context)
            html = Markup(  # noqa: S704  (render_template escapes)
                render_template(kind.template, result=result, context=context, kind=kind, page=page)
            )
        except Exception:
            if kind.id in OWN_KINDS:
                raise
            current_app.logger.exception("comparison kind %r failed", kind.id)
            shown.append(Shown(kind, failed=True))
            continue
        shown.append(Shown(kind, result, html))
    return shown


# --- caching --------------------------------------------------------------------------------


def _viewer(tenant) -> tuple:
    """Who is looking: the user, the role, the clusters they are tied to, what the privacy
    policy lets them see, and the session (a cached page carries the session's form
    token)."""
    from flask_wtf.csrf import generate_csrf

    generate_csrf()  # the session has its token before the key is taken
    token = str(session.get("csrf_token", ""))
    return (
        current_user.id,
        str(role_in(current_user, tenant)),
        bool(current_user.is_platform_admin),
        tuple(sorted(cluster_ids_of(current_user, tenant))),
        values_view(current_user, tenant).key,
        hashlib.sha256(token.encode()).hexdigest()[:16],
    )


def _etag(tenant, *parts, state: PageState | None = None) -> str:
    """The page's ETag. ``state`` (``read_page_state``) covers the reference portfolios, the
    clusters and the rounds in two queries; without it the rounds are read as they were
    before. The privacy settings are in the viewer's part (``_viewer``)."""
    changed = rounds_fingerprint() if state is None else state.key
    key = (
        request.endpoint,
        tenant.id,
        tenant.name,
        tenant.accent_color,
        tenant.logo_updated_at,
        changed,
        _locale(),
        is_htmx(),
        request.headers.get("HX-Target", ""),
        _viewer(tenant),
        parts,
    )
    return hashlib.sha256(repr(key).encode()).hexdigest()[:40]


def _not_modified(etag: str) -> Response | None:
    """The 304 for a repeat visit; none while messages wait to be shown."""
    if session.get("_flashes") or not request.if_none_match.contains_weak(etag):
        return None
    response = Response(status=304)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _cached(etag: str, body: str | Response) -> Response:
    response = make_response(body)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# --- the start page -------------------------------------------------------------------------


@bp.route("/")
def index():
    tenant = current_tenant()
    require(current_user, "compare.view", tenant)
    sets = indicator_sets_for(tenant.id)
    indicator_set = _chosen_set(sets)
    context = {
        "sets": sets,
        "set_options": _set_options(sets),
        "indicator_set": indicator_set,
        "set_label": _set_label(indicator_set),
        "forum_kinds": [],
        "cluster_kinds": [],
        "clusters": [],
        "forum_clusters": 0,
        "any_rounds": not rounds_fingerprint().startswith("0-"),
        "references_url": _url("compare.references"),
        "settings_url": _url("privacy.settings"),
        "manage": may(current_user, "compare.manage", tenant),
    }
    if indicator_set is None or not context["any_rounds"]:
        return render_template("compare/index.html", **context)
    compare = context_for(current_user, tenant, indicator_set, locale=_locale())
    latest = latest_rounds(indicator_set.id, indicator_set.version)
    with_round = {r.cluster_id: r for r in latest}
    stmt = select(Cluster).order_by(Cluster.name)
    if not compare.sees_all:
        stmt = stmt.where(Cluster.id.in_(compare.visible_cluster_ids))
    clusters = (
        list(db.session.scalars(stmt)) if compare.sees_all or compare.visible_cluster_ids else []
    )
    context.update(
        forum_kinds=_kinds(tenant, "forum", indicator_set),
        cluster_kinds=_kinds(tenant, "cluster", indicator_set),
        clusters=[(c, with_round.get(c.id)) for c in clusters],
        forum_clusters=len(latest),
        min_group=compare.min_group,
    )
    return render_template("compare/index.html", **context)


# --- one cluster ----------------------------------------------------------------------------


def _cluster_setup(cluster_id: int):
    """The cluster (403 unless the viewer may see its own values), the set and its rounds."""
    tenant = current_tenant()
    cluster = get_or_404(Cluster, cluster_id)
    require(current_user, "compare.cluster", cluster)
    sets = indicator_sets_for(tenant.id)
    rounds = cluster_rounds(cluster.id)
    by_key = {s.key: s for s in sets}
    newest = next(
        (
            by_key[(r.indicator_set, r.set_version)]
            for r in reversed(rounds)
            if (r.indicator_set, r.set_version) in by_key
        ),
        None,
    )
    indicator_set = _chosen_set(sets, default=newest)
    set_rounds = (
        [r for r in rounds if (r.indicator_set, r.set_version) == indicator_set.key]
        if indicator_set
        else []
    )
    round_id = request.args.get("round", type=int)
    if round_id not in {r.round_id for r in set_rounds}:
        round_id = None
    return tenant, cluster, sets, indicator_set, set_rounds, round_id


def _cluster_page(cluster_id: int, template: str, report: bool = False, pdf: bool = False):
    tenant, cluster, sets, indicator_set, set_rounds, round_id = _cluster_setup(cluster_id)
    kinds = _kinds(tenant, "cluster", indicator_set) if indicator_set else []
    etag = _etag(
        tenant,
        cluster.id,
        cluster.name,
        indicator_set.key if indicator_set else None,
        round_id,
        [k.id for k in kinds],
        date.today() if report else None,
    )
    if (cached := _not_modified(etag)) is not None:
        return cached
    shown = []
    values = {}
    if indicator_set is not None:
        values = {"set": indicator_set.id, "version": indicator_set.version}
        context = context_for(
            current_user,
            tenant,
            indicator_set,
            cluster=cluster,
            locale=_locale(),
            options={"round_id": round_id},
        )
        page = SimpleNamespace(report=report, url=url_for("compare.cluster", cluster_id=cluster.id))
        shown = _show(kinds, context, page)
    args = dict(values, round=round_id) if round_id else values
    data = {
        "cluster": cluster,
        "sets": sets,
        "set_options": _set_options(sets),
        "indicator_set": indicator_set,
        "set_label": _set_label(indicator_set),
        "rounds": set_rounds,
        "round_id": round_id,
        "shown": shown,
        "results_id": RESULTS_ID,
        "report_url": url_for("compare.cluster_report", cluster_id=cluster.id, **args),
        "pdf_url": url_for("compare.cluster_report_pdf", cluster_id=cluster.id, **args),
        "xlsx_url": url_for("compare.cluster_xlsx", cluster_id=cluster.id, **args),
        "page_url": url_for("compare.cluster", cluster_id=cluster.id, **args),
        "today": date.today(),
    }
    if not report and wants_fragment(RESULTS_ID):
        return _cached(etag, render_template("compare/_cluster_results.html", **data))
    if pdf:
        name = (tenant.slug, cluster.name, indicator_set.id if indicator_set else "", "report")
        return _cached(etag, pdf_response(render_template(template, **data), *name))
    return _cached(etag, render_template(template, **data))


@bp.route("/clusters/<int:cluster_id>")
@cached_page
def cluster(cluster_id: int):
    return _cluster_page(cluster_id, "compare/cluster.html")


@bp.route("/clusters/<int:cluster_id>/report")
def cluster_report(cluster_id: int):
    return _cluster_page(cluster_id, "compare/cluster_report.html", report=True)


@bp.route("/clusters/<int:cluster_id>/report.pdf")
def cluster_report_pdf(cluster_id: int):
    """The printable report as a PDF file: the same page, rendered by the core."""
    return _cluster_page(cluster_id, "compare/cluster_report.html", report=True, pdf=True)


@bp.route("/clusters/<int:cluster_id>/comparisons.xlsx")
def cluster_xlsx(cluster_id: int):
    tenant, cluster, _sets, indicator_set, _rounds, round_id = _cluster_setup(cluster_id)
    sheets = []
    if indicator_set is not None:
        context = context_for(
            current_user,
            tenant,
            indicator_set,
            cluster=cluster,
            locale=_locale(),
            options={"round_id": round_id},
        )
        for kind, result in _compute(_kinds(tenant, "cluster", indicator_set), context):
            sheets.extend(export.sheets(kind, result, context))
    name = export.file_name(tenant.slug, cluster.name, indicator_set)
    return export.download(sheets, name)


# --- the forum ------------------------------------------------------------------------------


def _sort_options(indicator_set) -> list[tuple[str, str]]:
    options = [
        ("name", _("Cluster")),
        ("-score", _("Score, best first")),
        ("score", _("Score, weakest first")),
    ]
    for group in indicator_set.groups:
        name = pick_text(group.name, _locale())
        options.append((f"-group:{group.id}", _("%(group)s, best first", group=name)))
        options.append((f"group:{group.id}", _("%(group)s, weakest first", group=name)))
    return options


def _wave_options() -> dict[str, str]:
    """The two coordinated benchmarkings the forum over time compares (their first days, ISO;
    anything else is ignored and the newest two are compared)."""
    found = {}
    for name in ("from_wave", "to_wave"):
        value = request.args.get(name, "")[:10]
        if len(value) == 10 and value[:4].isdigit() and value[5:7].isdigit():
            found[name] = value
    return found


def _reference_ids() -> list[int]:
    found = []
    for value in request.args.getlist("ref"):
        if value.isdigit() and int(value) not in found:
            found.append(int(value))
    return found[:MAX_REFERENCES]


def _weakness_finding(indicator_set, standing) -> dict:
    info, summary = standing.indicator, standing.summary
    return {
        "title": _("Improve: %(indicator)s", indicator=info.name),
        "description": _(
            "Forum scorecard: the forum's median is %(median)s (middle half %(q1)s to "
            "%(q3)s); %(red)s of the clusters are red.",
            median=charts.number(summary.median),
            q1=charts.number(summary.q1),
            q3=charts.number(summary.q3),
            red=charts.percent(summary.share("red")),
        ),
        "indicator_set": indicator_set.id,
        "set_version": indicator_set.version,
        "indicator_id": info.id,
    }


def _lag_finding(indicator_set, gap, reference: str) -> dict:
    return {
        "title": _("Improve: %(indicator)s", indicator=gap.indicator.name),
        "description": _(
            "The forum's median %(forum)s lags the median of %(reference)s (%(theirs)s).",
            forum=charts.number(gap.forum.median),
            reference=reference,
            theirs=charts.number(gap.reference.median),
        ),
        "indicator_set": indicator_set.id,
        "set_version": indicator_set.version,
        "indicator_id": gap.indicator.id,
    }


def _followup(tenant, plans, targets, next_url: str):
    """What the follow-up forms need, for coordinators of a region with a joint plan."""
    if not plans or not targets:
        return None
    buttons = []
    for target in targets:
        address = _url(target.endpoint)
        if address:
            buttons.append((target.label, address))
    return SimpleNamespace(plans=plans, buttons=buttons, next=next_url) if buttons else None


def _page_numbers(current: int, pages: int) -> list[int | None]:
    """The pages a pager offers: the first, the last and those around the current one;
    None where some are left out."""
    wanted = {1, pages, *range(current - 2, current + 3)}
    found: list[int | None] = []
    for number in range(1, pages + 1):
        if number in wanted:
            found.append(number)
        elif found and found[-1] is not None:
            found.append(None)
    return found


def _page_number() -> int:
    """The heat map's page asked for; anything but a positive number is the first page
    (a page beyond the last is the last: the kind clamps it)."""
    value = request.args.get("page", "")
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        return 1
    return max(int(value), 1)


def _forum_page(template: str, report: bool = False, pdf: bool = False):
    tenant = current_tenant()
    require(current_user, "compare.view", tenant)
    sets = indicator_sets_for(tenant.id)
    indicator_set = _chosen_set(sets)

    def page_data():
        return {
            "sets": sets,
            "set_options": _set_options(sets),
            "indicator_set": indicator_set,
            "set_label": _set_label(indicator_set),
            "shown": [],
            "results_id": RESULTS_ID,
            "today": date.today(),
            "references_url": _url("compare.references"),
            "settings_url": _url("privacy.settings"),
        }

    if indicator_set is None:
        html = render_template(template, **page_data())
        return pdf_response(html, tenant.slug, _("forum"), "report") if pdf else html
    sort = request.args.get("sort", "name")
    # The report is the first page of REPORT_ROWS clusters (its size is bounded).
    number = 1 if report else _page_number()
    wanted = _reference_ids()
    kinds = _kinds(tenant, "forum", indicator_set)
    manage = may(current_user, "compare.manage", tenant)
    plans = joint_plans() if manage and not report else []
    targets = followup_targets(tenant) if plans else []
    # What changed (settings, references, clusters, rounds): two queries, and a revisit
    # with nothing changed is answered before anything else is read.
    state = read_page_state(tenant.id)
    etag = _etag(
        tenant,
        indicator_set.key,
        sort,
        number,
        wanted,
        [(p.id, p.title) for p in plans],
        [t.id for t in targets],
        [k.id for k in kinds],
        date.today() if report else None,
        _wave_options(),
        # The forum over time shows the region's work too: any write may change it.
        tenant.data_version if any(k.id == "forum-over-time" for k in kinds) else None,
        state=state,
    )
    if (cached := _not_modified(etag)) is not None:
        return cached
    data = page_data()
    usable = usable_references(tenant.id, indicator_set.id, indicator_set.version)
    by_id = {r.id: r for r in usable}
    chosen = [by_id[i] for i in wanted if i in by_id]
    context = context_for(
        current_user,
        tenant,
        indicator_set,
        locale=_locale(),
        options={
            "sort": sort,
            "reference_ids": [r.id for r in chosen],
            "page": number,
            "per_page": REPORT_ROWS if report else None,
            **_wave_options(),
        },
    )
    values = {"set": indicator_set.id, "version": indicator_set.version}
    args = dict(values, sort=sort, ref=[r.id for r in chosen], **_wave_options())
    page_url = url_for("compare.forum", **args)
    if number and number > 1:
        page_url = url_for("compare.forum", **args, page=number)
    page = SimpleNamespace(
        report=report,
        url=url_for("compare.forum"),
        values=values,
        sort=sort,
        sort_options=_sort_options(indicator_set),
        chosen=[r.id for r in chosen],
        usable=usable,
        tenant_id=tenant.id,
        min_group=context.min_group,
        sees_all=context.sees_all,
        show_names=context.show_names,
        manage=manage,
        settings_url=data["settings_url"],
        references_url=data["references_url"],
        followup=_followup(tenant, plans, targets, page_url),
        weakness_finding=lambda standing: _weakness_finding(indicator_set, standing),
        lag_finding=lambda gap, name: _lag_finding(indicator_set, gap, name),
        limit=FOLLOWUP_LIMIT,
        scorecard_url=url_for("compare.forum", **args),
        xlsx_url=url_for("compare.forum_xlsx", **args),
        page_url=lambda n: url_for("compare.forum", **args, page=n),
        page_numbers=_page_numbers,
        cluster_link=lambda row: (
            url_for("compare.cluster", cluster_id=row.cluster_id, **values)
            if row.cluster_id
            else None
        ),
    )
    remember_state(tenant.id, state)
    try:
        shown = _show(kinds, context, page)
    finally:
        remember_state(tenant.id, None)
    data.update(
        shown=shown,
        page=page,
        page_url=page_url,
        report_url=url_for("compare.forum_report", **args),
        pdf_url=url_for("compare.forum_report_pdf", **args),
        xlsx_url=url_for("compare.forum_xlsx", **args),
    )
    if not report and wants_fragment(RESULTS_ID):
        return _cached(etag, render_template("compare/_forum_results.html", **data))
    if pdf:
        name = (tenant.slug, _("forum"), indicator_set.id, "report")
        return _cached(etag, pdf_response(render_template(template, **data), *name))
    return _cached(etag, render_template(template, **data))


def _forum_scopes() -> list[str] | None:
    """What the scorecard shows besides the region's own rows (rounds, settings, references,
    clusters): the joint plans findings go to (``plans``) and, in the forum over time, the
    region's work on indicators (``aims``). Another plugin's kind may read anything: then
    every write."""
    if any(kind.id not in OWN_KINDS for kind in comparison_kinds(current_tenant().id)):
        return None
    return [cache_scopes.AIMS, cache_scopes.PLANS]


@bp.route("/forum")
@cached_page(scopes=_forum_scopes)
def forum():
    return _forum_page("compare/forum.html")


@bp.route("/forum/report")
def forum_report():
    return _forum_page("compare/forum_report.html", report=True)


@bp.route("/forum/report.pdf")
def forum_report_pdf():
    """The forum's printable report as a PDF file: the same page, rendered by the core."""
    return _forum_page("compare/forum_report.html", report=True, pdf=True)


@bp.route("/forum/comparisons.xlsx")
def forum_xlsx():
    tenant = current_tenant()
    require(current_user, "compare.view", tenant)
    indicator_set = _chosen_set(indicator_sets_for(tenant.id))
    sheets = []
    if indicator_set is not None:
        usable = {
            r.id for r in usable_references(tenant.id, indicator_set.id, indicator_set.version)
        }
        state = read_page_state(tenant.id)
        context = context_for(
            current_user,
            tenant,
            indicator_set,
            locale=_locale(),
            options={
                "sort": request.args.get("sort", "name"),
                "reference_ids": [i for i in _reference_ids() if i in usable],
                **_wave_options(),
            },
        )
        remember_state(tenant.id, state)
        try:
            for kind, result in _compute(_kinds(tenant, "forum", indicator_set), context):
                sheets.extend(export.sheets(kind, result, context))
        finally:
            remember_state(tenant.id, None)
    name = export.file_name(tenant.slug, _("forum"), indicator_set)
    return export.download(sheets, name)
