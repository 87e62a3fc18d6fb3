"""The public label register: which clusters of the regions that publish it hold which label.

A region publishes its register with ``Tenant.register_published`` (and the scores apart, with
``Tenant.register_scores_published``). Everything here reads across tenants on purpose
(``unscoped``), and only ever the published regions' labels; what leaves is the row of
:class:`PublicLabel` and nothing else: no values, no evidence, no people, no notes.

The page, the CSV, the JSON and the Atom feed all read :func:`labels_page` / :func:`feed_labels`
with the same filters, so a download holds what the page shows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.labels.models import Label
from portal.labels.registry import schemes
from portal.labels.scheme import add_months
from portal.tenancy import unscoped
from portal.tenancy.models import Tenant
from portal.web.pagination import Page, paginate

WITHIN_CHOICES = (3, 6, 12)
FEED_EXPIRING_MONTHS = 3
FEED_AWARDED_MAX = 50


@dataclass(frozen=True)
class Filters:
    scheme: str = ""
    level: str = ""
    status: str = ""  # "", "current", "expired"
    within: int | None = None  # expiring within so many months
    region: str = ""  # a region's slug (the platform page)

    @property
    def any(self) -> bool:
        return bool(self.scheme or self.level or self.status or self.within or self.region)

    def query(self) -> dict[str, str | int]:
        """The filters as URL arguments (for downloads and page links)."""
        values = {
            "scheme": self.scheme,
            "level": self.level,
            "status": self.status,
            "within": self.within or "",
            "region": self.region,
        }
        return {k: v for k, v in values.items() if v}


def parse_filters(args) -> Filters:
    """Filters from a query string; anything unknown is ignored, never an error."""
    status = args.get("status", "")
    within = args.get("within", type=int)
    return Filters(
        scheme=args.get("scheme", "")[:100],
        level=args.get("level", "")[:40],
        status=status if status in ("current", "expired") else "",
        within=within if within in WITHIN_CHOICES else None,
        region=args.get("region", "")[:63],
    )


@dataclass(frozen=True)
class PublicLabel:
    """One row of the public register: all that may leave the portal about a label."""

    id: int
    cluster: str
    region_slug: str
    region_name: str
    scheme: str
    scheme_version: str
    level: str
    awarded_on: date
    expires_on: date
    score: Decimal | None  # None unless the region publishes its scores

    def expired(self, today: date) -> bool:
        return self.expires_on < today


def published_regions(slug: str | None = None) -> list[Tenant]:
    """The regions that publish their register (one, by its slug, or all), by name."""
    stmt = select(Tenant).where(Tenant.register_published.is_(True))
    if slug is not None:
        stmt = stmt.where(Tenant.slug == slug)
    return list(db.session.scalars(stmt.order_by(Tenant.name, Tenant.id)))


def fingerprint(regions: list[Tenant], *parts: object) -> str:
    """An ETag for what the register shows of these regions: each region's data version
    (it changes with every write to its labels, clusters and settings) and its switches,
    plus the caller's parts (language, day, filters, page)."""
    seen = [
        (r.id, r.slug, r.data_version, r.register_published, r.register_scores_published)
        for r in regions
    ]
    return hashlib.sha256(repr((seen, parts)).encode()).hexdigest()[:32]


def _columns() -> Select:
    return (
        select(
            Label.id,
            Cluster.name,
            Tenant.slug,
            Tenant.name,
            Label.scheme,
            Label.scheme_version,
            Label.level,
            Label.awarded_on,
            Label.expires_on,
            Label.score,
            Tenant.register_scores_published,
        )
        .select_from(Label)
        .join(Cluster, Cluster.id == Label.cluster_id)
        .join(Tenant, Tenant.id == Label.tenant_id)
    )


def _row(row) -> PublicLabel:
    (id_, cluster, slug, region, scheme, version, level, awarded, expires, score, shown) = row
    return PublicLabel(
        id=id_,
        cluster=cluster,
        region_slug=slug,
        region_name=region,
        scheme=scheme,
        scheme_version=version,
        level=level,
        awarded_on=awarded,
        expires_on=expires,
        # Kept as a float in the table: its shortest text is the score as it was entered.
        score=Decimal(str(score)) if shown and score is not None else None,
    )


def _published(stmt: Select, regions: list[Tenant]) -> Select:
    # Both conditions: the region list and the switch itself, read in the same query.
    ids = [r.id for r in regions]
    return stmt.where(Label.tenant_id.in_(ids), Tenant.register_published.is_(True))


def _filtered(regions: list[Tenant], filters: Filters, today: date) -> Select:
    """The published labels that match: newest expiry first, then by id (a stable order)."""
    stmt = _published(_columns(), regions)
    if filters.region:
        stmt = stmt.where(Tenant.slug == filters.region)
    return filtered_labels(stmt, filters, today)


def filtered_labels(stmt: Select, filters: Filters, today: date) -> Select:
    """The register's filters (status, expiring within, level, scheme) and its order, newest
    expiry first, then by id: the public register and the region's own alike."""
    if filters.status == "current":
        stmt = stmt.where(Label.expires_on >= today)
    elif filters.status == "expired":
        stmt = stmt.where(Label.expires_on < today)
    if filters.within:
        stmt = stmt.where(
            Label.expires_on >= today, Label.expires_on <= add_months(today, filters.within)
        )
    if filters.scheme:
        stmt = stmt.where(Label.scheme == filters.scheme)
    if filters.level:
        stmt = stmt.where(Label.level == filters.level)
    return stmt.order_by(Label.expires_on.desc(), Label.id)


def labels_page(
    regions: list[Tenant], filters: Filters, today: date, page: int, per_page: int
) -> Page:
    """One page of the matching labels (two queries: the count and the page)."""
    with unscoped():
        result = paginate(_filtered(regions, filters, today), page, per_page, scalars=False)
    result.items = [_row(r) for r in result.items]
    return result


def all_labels(regions: list[Tenant], filters: Filters, today: date) -> list[PublicLabel]:
    """Every matching label, in the page's order (the CSV download; one query)."""
    with unscoped():
        return [_row(r) for r in db.session.execute(_filtered(regions, filters, today))]


def feed_labels(regions: list[Tenant], today: date) -> tuple[list[PublicLabel], list[PublicLabel]]:
    """(the newest awards, the labels that expire within the next months): the feed's
    entries, each list in one query."""
    awarded = (
        _published(_columns(), regions)
        .where(Label.awarded_on <= today)
        .order_by(Label.awarded_on.desc(), Label.id.desc())
        .limit(FEED_AWARDED_MAX)
    )
    expiring = (
        _published(_columns(), regions)
        .where(
            Label.expires_on >= today,
            Label.expires_on <= add_months(today, FEED_EXPIRING_MONTHS),
        )
        .order_by(Label.expires_on, Label.id)
    )
    with unscoped():
        return (
            [_row(r) for r in db.session.execute(awarded)],
            [_row(r) for r in db.session.execute(expiring)],
        )


def scheme_options() -> list:
    """The newest version of every installed scheme (the filters' choices; no query)."""
    newest = {}
    for (scheme_id, version), (_plugin, scheme) in schemes().items():
        if scheme_id not in newest or version > newest[scheme_id].version:
            newest[scheme_id] = scheme
    return sorted(newest.values(), key=lambda s: s.id)
