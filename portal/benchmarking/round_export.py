"""Benchmarking rounds in the import format (docs/rounds-import.md): the export re-imports
without loss (into a region without those rounds), and the example file cannot pass for
real data."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.benchmarking import services
from portal.benchmarking.indicators import LIGHTS
from portal.benchmarking.models import BenchmarkRound
from portal.benchmarking.round_checks import COLUMNS
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.imports.table import EXAMPLE_COLUMN, EXAMPLE_MARK
from portal.plans.spreadsheets import to_csv, to_xlsx


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def round_rows(cluster_ids: list[int]) -> list[list[Any]]:
    """One row per value of every round of the clusters: by cluster name, date, set; the
    values in the set's order. The round's assessor, audit mark and notes on every row.

    Only confirmed benchmarkings and audits: the file is the import's, and an import writes
    experts' confirmed results (a self-assessment or a draft would come back as one)."""
    if not cluster_ids:
        return []
    rounds = db.session.scalars(
        select(BenchmarkRound)
        .join(Cluster, Cluster.id == BenchmarkRound.cluster_id)
        .where(BenchmarkRound.cluster_id.in_(cluster_ids), BenchmarkRound.counts_as_evidence())
        .options(selectinload(BenchmarkRound.values), selectinload(BenchmarkRound.cluster))
        .order_by(
            func.lower(Cluster.name),
            Cluster.id,
            BenchmarkRound.held_on,
            BenchmarkRound.indicator_set,
            BenchmarkRound.set_version,
        )
    )
    rows = []
    orders: dict[tuple[str, str], dict[str, int]] = {}
    for round_ in rounds:
        key = (round_.indicator_set, round_.set_version)
        if key not in orders:
            found = services.find_set(*key)
            orders[key] = {i.id: n for n, i in enumerate(found.indicators)} if found else {}
        order = orders[key]
        values = sorted(
            round_.values, key=lambda v: (order.get(v.indicator_id, 10**6), v.indicator_id)
        )
        for value in values:
            rows.append(
                [
                    round_.cluster.name,
                    round_.held_on,
                    round_.indicator_set,
                    round_.set_version,
                    value.indicator_id,
                    _number(value.value),
                    value.comment or "",
                    round_.assessor or "",
                    "yes" if round_.audit else "no",
                    round_.notes or "",
                ]
            )
    return rows


def rounds_csv(cluster_ids: list[int]) -> bytes:
    return to_csv(COLUMNS, round_rows(cluster_ids))


def rounds_xlsx(cluster_ids: list[int]) -> bytes:
    return to_xlsx([("Rounds", list(COLUMNS), round_rows(cluster_ids))])


def example_csv(tenant_id: int) -> bytes | None:
    """A small file to start from: one round of the first available set, three values. Its
    rows are marked as examples (column ``example``, an example cluster), so the import
    refuses them until they are replaced with real data."""
    sets = services.available_sets(tenant_id)
    if not sets:
        return None
    indicator_set = sets[0]
    rows = []
    for indicator, target in zip(indicator_set.indicators[:3], LIGHTS, strict=False):
        value = {
            "green": indicator.green_at,
            "yellow": indicator.yellow_at,
            "red": indicator.minimum if indicator.higher_is_better else indicator.maximum,
        }[target]
        rows.append(
            [
                "EXAMPLE cluster",
                date.today().isoformat(),
                indicator_set.id,
                indicator_set.version,
                indicator.id,
                f"{value:g}",
                "EXAMPLE value: replace with a real one",
                "EXAMPLE expert: the name of the expert whose result this is",
                "no",
                "",
                EXAMPLE_MARK,
            ]
        )
    return to_csv((*COLUMNS, EXAMPLE_COLUMN), rows)
