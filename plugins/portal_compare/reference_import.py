"""Reference portfolios from CSV or XLSX files, and the region's own published aggregates.

The formats are in :mod:`portal_compare.reference_format` (docs/reference-portfolios.md),
the check of a file in :mod:`portal_compare.reference_checks`, the export and the example
files in :mod:`portal_compare.reference_export`.

On the page the import checks first, then confirms (toolkit ``check_upload`` /
``confirm_import``, with :func:`importer`): the first submission writes nothing and keeps
the file; the confirm checks the kept file again (the name too) and writes exactly what the
preview showed, every indicator or none, in one transaction. The indicator set version,
the kind and the name are chosen with the file and kept with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from portal.toolkit import (
    Importer,
    ServiceError,
    _,
    db,
    find_indicator_set,
    forum_rounds,
    indicator_sets_for,
)
from portal_compare.models import ReferenceIndicator, ReferencePortfolio
from portal_compare.reference_checks import check_file
from portal_compare.reference_format import (  # noqa: F401 (the import's vocabulary)
    AGGREGATE_COLUMNS,
    CLUSTER_COLUMNS,
    KIND_LABELS,
    KINDS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    NAME_LIMIT,
    Aggregate,
    Outcome,
    Problem,
)
from portal_compare.stats import LIGHTS, summarise

TARGET = "references"
KIND = "references"


# --- names -----------------------------------------------------------------------------------


def _own_names(tenant_id: int, indicator_set) -> dict[str, ReferencePortfolio]:
    stmt = select(ReferencePortfolio).where(
        ReferencePortfolio.tenant_id == tenant_id,
        ReferencePortfolio.indicator_set == indicator_set.id,
        ReferencePortfolio.set_version == indicator_set.version,
    )
    return {p.name.strip().casefold(): p for p in db.session.scalars(stmt)}


def name_problem(tenant_id: int, name: str, indicator_set) -> str | None:
    """Why the name cannot be used (translated), or None: required, at most 200
    characters, unique in the region for the set version (ignoring case)."""
    name = (name or "").strip()
    if not name:
        return _("Give the portfolio a name.")
    if len(name) > NAME_LIMIT:
        return _("At most %(n)d characters.", n=NAME_LIMIT)
    if name.casefold() in _own_names(tenant_id, indicator_set):
        return _(
            "This region has a reference portfolio named “%(name)s” for %(set)s %(version)s "
            "already.",
            name=name,
            set=indicator_set.id,
            version=indicator_set.version,
        )
    return None


# --- writing ---------------------------------------------------------------------------------


def _portfolio(tenant_id, indicator_set, name, source, count, aggregates, user, published):
    portfolio = ReferencePortfolio(
        tenant_id=tenant_id,
        name=name,
        indicator_set=indicator_set.id,
        set_version=indicator_set.version,
        source=source,
        cluster_count=count,
        published=published,
        created_by_id=getattr(user, "id", None),
    )
    portfolio.indicators = [
        ReferenceIndicator(
            tenant_id=tenant_id,
            indicator_id=a.indicator_id,
            count=a.count,
            minimum=a.minimum,
            q1=a.q1,
            median=a.median,
            q3=a.q3,
            maximum=a.maximum,
            red_share=a.red,
            yellow_share=a.yellow,
            green_share=a.green,
        )
        for a in aggregates
    ]
    return portfolio


# --- check first, then confirm ---------------------------------------------------------------


def options(kind: str, indicator_set, name: str) -> dict[str, Any]:
    """What is chosen with the file, kept with the pending import."""
    return {
        "kind": kind,
        "set": indicator_set.id,
        "version": indicator_set.version,
        "name": (name or "").strip(),
    }


def check(tenant_id: int, raw: bytes, chosen: dict[str, Any]) -> Outcome:
    """The file, and the name, checked as they are now (with a set version the region has
    switched on); nothing is written."""
    indicator_set = find_indicator_set(chosen.get("set", ""), chosen.get("version", ""))
    switched_on = {s.key for s in indicator_sets_for(tenant_id)}
    if indicator_set is None or indicator_set.key not in switched_on:
        outcome = Outcome(chosen.get("kind", ""))
        outcome.errors.append(Problem(None, None, _("Choose an indicator set.")))
        return outcome
    outcome = check_file(raw, chosen.get("kind", ""), indicator_set)
    outcome.name = chosen.get("name", "")
    problem = name_problem(tenant_id, outcome.name, indicator_set)
    if problem:
        outcome.errors.insert(0, Problem(None, "name", problem))
        outcome.aggregates = []
    return outcome


def planned(outcome: Outcome) -> list[Any]:
    """What the preview shows and the confirm writes."""
    s = outcome.indicator_set
    return [
        outcome.kind,
        s.id if s else None,
        s.version if s else None,
        outcome.name,
        outcome.cluster_count,
        [a.stored() for a in outcome.aggregates],
    ]


def write(user, tenant_id: int, outcome: Outcome) -> Outcome:
    """Store a checked outcome as an unpublished portfolio, in one transaction."""
    portfolio = _portfolio(
        tenant_id,
        outcome.indicator_set,
        outcome.name,
        outcome.kind,
        outcome.cluster_count,
        outcome.aggregates,
        user,
        published=False,
    )
    try:
        db.session.add(portfolio)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        message = _(
            "The import failed and nothing was written (perhaps someone imported a "
            "portfolio with the same name at the same time). Try again."
        )
        outcome.errors.append(Problem(None, None, message))
        return outcome
    outcome.written, outcome.portfolio_id = True, portfolio.id
    return outcome


def describe(outcome: Outcome) -> str:
    return _(
        "The reference portfolio “%(name)s” is imported: %(indicators)d "
        "indicators, %(clusters)d clusters.",
        name=outcome.name,
        indicators=len(outcome.aggregates),
        clusters=outcome.cluster_count,
    )


def importer(user, tenant_id: int) -> Importer:
    """The region's reference portfolio import; permissions are the caller's (the page
    requires ``compare.manage``)."""
    return Importer(
        KIND,
        lambda raw, chosen: check(tenant_id, raw, chosen),
        lambda outcome, _chosen: write(user, tenant_id, outcome),
        planned,
        describe,
    )


def import_reference(
    user,
    tenant_id: int,
    raw: bytes,
    *,
    kind: str,
    indicator_set,
    name: str,
    dry_run: bool = False,
) -> Outcome:
    """Both steps at once (the demo data): check a file and, when it has no problem and
    ``dry_run`` is off, store it as a reference portfolio named ``name``."""
    outcome = check(tenant_id, raw, options(kind, indicator_set, name))
    if outcome.errors or dry_run:
        return outcome
    return write(user, tenant_id, outcome)


def publish_aggregates(user, tenant, indicator_set, min_group: int) -> ReferencePortfolio:
    """Publish the forum's anonymised aggregates of a set version as a reference portfolio
    other regions may pick: the round each cluster counts with in the forum's comparisons
    (its newest full round; a newer partial one does not replace it), aggregated per indicator.

    Refused (``ServiceError``) when fewer than ``min_group`` clusters have a round of the
    version. Indicators with fewer values than ``min_group`` are left out, and so are the
    minimum and maximum (each is one cluster's value). Publishing again replaces the
    region's earlier published portfolio of the same set version."""
    rounds = forum_rounds(indicator_set).counted
    if len(rounds) < min_group:
        raise ServiceError(
            _(
                "Only %(n)d clusters of this forum have a round of %(set)s %(version)s; at "
                "least %(k)d are needed to publish their aggregates.",
                n=len(rounds),
                set=indicator_set.id,
                version=indicator_set.version,
                k=min_group,
            )
        )
    aggregates = []
    for indicator in indicator_set.indicators:
        present = [r.values[indicator.id] for r in rounds if indicator.id in r.values]
        summary = summarise([v for v, _light in present], [light for _v, light in present])
        if summary is None or summary.count < min_group:
            continue
        aggregates.append(
            Aggregate(
                indicator.id,
                None,
                summary.count,
                None,
                summary.q1,
                summary.median,
                summary.q3,
                None,
                **{light: summary.lights[light] / summary.count for light in LIGHTS},
            )
        )
    year = max(r.held_on for r in rounds).year
    name = f"{tenant.name} {year} ({len(rounds)})"[:NAME_LIMIT]
    existing = _own_names(tenant.id, indicator_set)
    clash = existing.get(name.casefold())
    if clash is not None and clash.source != "published":
        raise ServiceError(
            _(
                "This region has a reference portfolio named “%(name)s” already. Rename or "
                "delete it first.",
                name=name,
            )
        )
    for old in existing.values():
        if old.source == "published":
            delete_portfolio(old, commit=False)
    portfolio = _portfolio(
        tenant.id,
        indicator_set,
        name,
        "published",
        len(rounds),
        aggregates,
        user,
        published=True,
    )
    db.session.add(portfolio)
    db.session.commit()
    return portfolio


def delete_portfolio(portfolio: ReferencePortfolio, *, commit: bool = True) -> None:
    """Delete one of the region's own portfolios; its aggregates go with it (the database
    cascades the delete)."""
    db.session.delete(portfolio)
    if commit:
        db.session.commit()
