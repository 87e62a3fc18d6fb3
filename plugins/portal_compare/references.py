"""Reference portfolios: the region's own (imported) and those other regions published.

Other regions' portfolios are read only when they are published; that read is the one
place this plugin leaves the tenant scope (``unscoped``), and it returns aggregates only.

A region's own published portfolio is its forum's own aggregates: it is never offered as a
reference to that forum (it would compare the forum with itself), only listed for managing.
"""

from __future__ import annotations

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import selectinload

from portal.toolkit import ComparisonContext, current_tenant, db, unscoped
from portal_compare.models import ReferenceIndicator, ReferencePortfolio
from portal_compare.stats import LIGHTS, Summary


def _own_published(tenant_id):
    return and_(ReferencePortfolio.tenant_id == tenant_id, ReferencePortfolio.source == "published")


def usable_references(
    tenant_id: int,
    set_id: str | None = None,
    version: str | None = None,
    *,
    own_published: bool = False,
):
    """The portfolios the region may compare its forum with: its own (but not its own
    published aggregates, unless ``own_published``: the list to manage them) and the
    published ones of other regions: one query."""
    stmt = (
        select(ReferencePortfolio)
        .where(
            or_(ReferencePortfolio.tenant_id == tenant_id, ReferencePortfolio.published.is_(True))
        )
        .order_by(ReferencePortfolio.tenant_id != tenant_id, ReferencePortfolio.name)
    )
    if not own_published:
        stmt = stmt.where(not_(_own_published(tenant_id)))
    if set_id is not None:
        stmt = stmt.where(ReferencePortfolio.indicator_set == set_id)
    if version is not None:
        stmt = stmt.where(ReferencePortfolio.set_version == version)
    with unscoped():
        return list(db.session.scalars(stmt))


def summary_of(row: ReferenceIndicator) -> Summary:
    shares = {
        light: getattr(row, f"{light}_share")
        for light in LIGHTS
        if getattr(row, f"{light}_share") is not None
    }
    return Summary(
        count=row.count,
        missing=0,
        minimum=row.minimum,
        q1=row.q1,
        median=row.median,
        q3=row.q3,
        maximum=row.maximum,
        lights={light: round(share * row.count) for light, share in shares.items()},
        shares=shares or None,
    )


def reference_columns(context: ComparisonContext, ids: list[int]):
    """The chosen portfolios of the context's set version, aggregates suppressed below the
    region's smallest group: two queries."""
    from portal_compare.kinds import ReferenceColumn

    if not ids:
        return []
    tenant = context.tenant or current_tenant()
    indicator_set = context.indicator_set
    stmt = (
        select(ReferencePortfolio)
        .where(
            ReferencePortfolio.id.in_([int(i) for i in ids][:10]),
            ReferencePortfolio.indicator_set == indicator_set.id,
            ReferencePortfolio.set_version == indicator_set.version,
            or_(ReferencePortfolio.tenant_id == tenant.id, ReferencePortfolio.published.is_(True)),
            not_(_own_published(tenant.id)),
        )
        .options(selectinload(ReferencePortfolio.indicators))
    )
    with unscoped():
        found = {p.id: p for p in db.session.scalars(stmt)}
    columns = []
    for portfolio_id in ids:
        portfolio = found.get(int(portfolio_id))
        if portfolio is None:
            continue
        summaries = {
            row.indicator_id: summary_of(row) if row.count >= context.min_group else None
            for row in portfolio.indicators
        }
        columns.append(
            ReferenceColumn(portfolio.id, portfolio.name, portfolio.cluster_count, summaries)
        )
    return columns
