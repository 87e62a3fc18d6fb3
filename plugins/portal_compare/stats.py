"""Medians, quartiles and light shares: pure functions, no database, no Flask.

Quartiles interpolate linearly between the closest ranks (the "inclusive" method of Python's
``statistics.quantiles``, numpy's default): for sorted values x[0..n-1] the p-quantile is at
position p * (n - 1). One value is its own median and quartiles; no value gives no aggregate.
Missing values (None, NaN) are left out and counted as missing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

LIGHTS = ("red", "yellow", "green")


def quantile(ordered: list[float], p: float) -> float:
    """The p-quantile (0 <= p <= 1) of already sorted values (at least one)."""
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


@dataclass(frozen=True)
class Summary:
    """The aggregate of one indicator over a group of clusters."""

    count: int
    missing: int
    minimum: float | None  # None for reference aggregates imported without them
    q1: float
    median: float
    q3: float
    maximum: float | None
    lights: dict[str, int]  # light -> number of clusters
    shares: dict[str, float] | None = None  # as imported, when only shares are known

    def share(self, light: str) -> float:
        if self.shares is not None:
            return self.shares.get(light, 0.0)
        return self.lights.get(light, 0) / self.count if self.count else 0.0


def _clean(values: Iterable[float | None]) -> tuple[list[float], int]:
    kept, missing = [], 0
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            missing += 1
        else:
            kept.append(float(value))
    return sorted(kept), missing


def summarise(values: Iterable[float | None], lights: Iterable[str | None] = ()) -> Summary | None:
    """Aggregate one indicator's values (and their lights); None when no value is there."""
    ordered, missing = _clean(values)
    if not ordered:
        return None
    counts = dict.fromkeys(LIGHTS, 0)
    for light in lights:
        if light in counts:
            counts[light] += 1
    return Summary(
        count=len(ordered),
        missing=missing,
        minimum=ordered[0],
        q1=quantile(ordered, 0.25),
        median=quantile(ordered, 0.5),
        q3=quantile(ordered, 0.75),
        maximum=ordered[-1],
        lights=counts,
    )


def position(value: float, low: float, high: float, higher_is_better: bool = True) -> float:
    """Where a value lies on an indicator's scale, 0 (worst) to 1 (best)."""
    if high == low:
        return 0.5
    share = (value - low) / (high - low)
    share = min(1.0, max(0.0, share))
    return share if higher_is_better else 1.0 - share


def percentile_rank(value: float, ordered: list[float]) -> float:
    """Share of the group at or below the value (ties count half), 0..1."""
    if not ordered:
        return 0.0
    below = sum(1 for v in ordered if v < value)
    equal = sum(1 for v in ordered if v == value)
    return (below + equal / 2) / len(ordered)
