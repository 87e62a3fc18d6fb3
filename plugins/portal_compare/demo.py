"""Demo data (idempotent): the default comparison settings, and in each demo region with the
ESCA gold indicator set two reference portfolios, as in the real forum's scorecard:

* "Danske klynger 2016 (29)": values of 29 anonymous clusters (seeded random), imported
  as per-cluster rows and aggregated on import;
* "Norske klynger 2016 (28)": per-indicator aggregates of 28 clusters.

Both go through the same import code as an uploaded file. A portfolio that exists already
is left alone.
"""

from __future__ import annotations

import csv
import io
import random

from sqlalchemy import select

from portal.toolkit import db, find_indicator_set, indicator_sets_for, tenant_scope
from portal_compare.models import ReferencePortfolio
from portal_compare.reference_import import AGGREGATE_COLUMNS, import_reference
from portal_compare.stats import LIGHTS, summarise

SET_ID, SET_VERSION = "esca-gold", "2013"
DANISH = "Danske klynger 2016 (29)"  # reads the same in Norwegian and Danish
NORWEGIAN = "Norske klynger 2016 (28)"


def _value(indicator, rng: random.Random, centre: float) -> float:
    """A plausible score: around ``centre`` of the scale, in half points."""
    span = indicator.maximum - indicator.minimum
    raw = rng.gauss(indicator.minimum + span * centre, span * 0.18)
    clipped = min(indicator.maximum, max(indicator.minimum, raw))
    return round(clipped * 2) / 2


def _write_csv(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def danish_file(indicator_set, clusters: int = 29) -> bytes:
    """Per-cluster rows: DK-01 .. DK-29, every indicator (a few left out, as in real data)."""
    rng = random.Random("danish-clusters-2016")
    rows = []
    for n in range(1, clusters + 1):
        maturity = rng.uniform(0.5, 0.8)
        for indicator in indicator_set.indicators:
            if rng.random() < 0.03:
                continue
            rows.append([f"DK-{n:02d}", indicator.id, f"{_value(indicator, rng, maturity):g}"])
    return _write_csv(("cluster", "indicator", "value"), rows)


def norwegian_file(indicator_set, clusters: int = 28) -> bytes:
    """Per-indicator aggregates of 28 clusters, shares as fractions."""
    rng = random.Random("norwegian-clusters-2016")
    maturities = [rng.uniform(0.45, 0.75) for _ in range(clusters)]
    rows = []
    for indicator in indicator_set.indicators:
        values = [_value(indicator, rng, m) for m in maturities]
        summary = summarise(values, [indicator.light(v) for v in values])
        shares = [summary.lights[light] / summary.count for light in LIGHTS]
        shares = [round(s, 3) for s in shares]
        rows.append(
            [
                indicator.id,
                summary.count,
                f"{summary.minimum:g}",
                f"{summary.q1:g}",
                f"{summary.median:g}",
                f"{summary.q3:g}",
                f"{summary.maximum:g}",
                *(f"{s:g}" for s in shares),
            ]
        )
    header = AGGREGATE_COLUMNS[:7] + LIGHTS
    return _write_csv(header, rows)


def load(tenant) -> None:
    with tenant_scope(tenant.id):
        if (SET_ID, SET_VERSION) not in {s.key for s in indicator_sets_for(tenant.id)}:
            return
        indicator_set = find_indicator_set(SET_ID, SET_VERSION)
        if indicator_set is None:
            return
        existing = set(
            db.session.scalars(
                select(ReferencePortfolio.name).where(
                    ReferencePortfolio.indicator_set == SET_ID,
                    ReferencePortfolio.set_version == SET_VERSION,
                )
            )
        )
        for name, kind, build in (
            (DANISH, "clusters", danish_file),
            (NORWEGIAN, "aggregates", norwegian_file),
        ):
            if name in existing:
                continue
            outcome = import_reference(
                None,
                tenant.id,
                build(indicator_set),
                kind=kind,
                indicator_set=indicator_set,
                name=name,
            )
            if outcome.errors:  # a bug in the generated file: say so loudly
                raise RuntimeError(f"demo portfolio {name}: {outcome.errors[:3]}")
