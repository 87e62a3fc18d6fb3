"""A reference portfolio in its import format, and the example files.

Only aggregates are stored, so every portfolio exports in the aggregates format, also one
imported from single clusters' values (those are not kept): one row per indicator with the
numbers as stored (exactly, so that the file re-imports to the same aggregates), the
portfolio's number of clusters in the column ``clusters``, and the set version. The example
files' rows are marked in the column ``example`` (toolkit ``EXAMPLE_COLUMN``), so that the
import refuses them until they are replaced with real data.
"""

from __future__ import annotations

from typing import Any

from portal.toolkit import EXAMPLE_COLUMN, EXAMPLE_MARK, to_csv, to_xlsx
from portal_compare.models import ReferencePortfolio
from portal_compare.reference_format import AGGREGATE_COLUMNS, CLUSTER_REQUIRED


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def portfolio_rows(portfolio: ReferencePortfolio, indicator_set=None) -> list[list[Any]]:
    """One row per indicator, in the set's order (if the set is installed)."""
    order = {i.id: n for n, i in enumerate(indicator_set.indicators)} if indicator_set else {}
    rows = sorted(
        portfolio.indicators, key=lambda r: (order.get(r.indicator_id, 10**6), r.indicator_id)
    )
    return [
        [
            r.indicator_id,
            r.count,
            *(_number(v) for v in (r.minimum, r.q1, r.median, r.q3, r.maximum)),
            *(_number(v) for v in (r.red_share, r.yellow_share, r.green_share)),
            portfolio.cluster_count,
            portfolio.indicator_set,
            portfolio.set_version,
        ]
        for r in rows
    ]


def portfolio_csv(portfolio: ReferencePortfolio, indicator_set=None) -> bytes:
    return to_csv(AGGREGATE_COLUMNS, portfolio_rows(portfolio, indicator_set))


def portfolio_xlsx(portfolio: ReferencePortfolio, indicator_set=None) -> bytes:
    rows = portfolio_rows(portfolio, indicator_set)
    return to_xlsx([("Aggregates", list(AGGREGATE_COLUMNS), rows)])


def example_csv(kind: str, indicator_set) -> bytes:
    """A small file to start from: three indicators of the set, every row marked as an
    example."""
    indicators = indicator_set.indicators[:3]
    if kind == "clusters":
        rows = []
        for n in range(1, 6):
            for i, indicator in enumerate(indicators):
                span = indicator.maximum - indicator.minimum
                value = indicator.minimum + span * ((n + i) % 5) / 4
                rows.append([f"EXAMPLE-{n:02d}", indicator.id, f"{value:g}", EXAMPLE_MARK])
        return to_csv((*CLUSTER_REQUIRED, EXAMPLE_COLUMN), rows)
    rows = []
    for indicator in indicators:
        low, span = indicator.minimum, indicator.maximum - indicator.minimum
        rows.append(
            [
                indicator.id,
                "12",
                f"{low:g}",
                f"{low + span * 0.4:g}",
                f"{low + span * 0.6:g}",
                f"{low + span * 0.8:g}",
                f"{indicator.maximum:g}",
                "0.25",
                "0.5",
                "0.25",
                EXAMPLE_MARK,
            ]
        )
    return to_csv((*AGGREGATE_COLUMNS[:10], EXAMPLE_COLUMN), rows)
