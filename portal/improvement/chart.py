"""Where the lines of a small before -> after chart go: pure drawing arithmetic, shared by
the pages that show an effect (a plan's action in the core; the joint plugin may use it
through the toolkit). The numbers it is given are exact decimals; the coordinates it returns
are pixels (floats are fine there, they are no scores)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

# The drawing: before on the left, after on the right, the scale's top and bottom.
LEFT, RIGHT, TOP, BOTTOM = 110, 290, 18, 128
LABEL_GAP = 14  # the least distance between two value labels on the same side


def before_after(
    lines: Sequence[tuple[str, Decimal | None, Decimal | None]],
    scale: tuple[Any, Any] | None = None,
) -> dict[str, Any] | None:
    """The chart of ``lines`` (name, value before, value after): each line with both values
    mapped between the scale's ends (``scale``: the indicator's lowest and highest value; the
    values' own range without one, or when a value lies beyond it). None when no line has
    both values."""
    drawn = [(name, b, a) for name, b, a in lines if b is not None and a is not None]
    if not drawn:
        return None
    values = [Decimal(v) for _name, b, a in drawn for v in (b, a)]
    if scale is not None:  # a definition's float scale: its written value
        low = min(Decimal(str(scale[0])), *values)
        high = max(Decimal(str(scale[1])), *values)
    else:
        low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1

    def y(value: Decimal) -> float:
        share = (Decimal(value) - low) / (high - low)
        return round(BOTTOM - float(share) * (BOTTOM - TOP), 1)

    placed = {name: {"before": b, "after": a, "y1": y(b), "y2": y(a)} for name, b, a in drawn}
    for side in ("y1", "y2"):
        _spread_labels(list(placed.values()), side)
    return {
        "low": low,
        "high": high,
        "y_low": BOTTOM,
        "y_high": TOP,
        "left": LEFT,
        "right": RIGHT,
        "lines": placed,
    }


def _spread_labels(lines: list[dict[str, Any]], side: str) -> None:
    """Each line's value label on ``side`` next to its point, moved apart where two would
    overlap (top to bottom, at least LABEL_GAP between neighbours)."""
    label = f"label_{side}"
    ordered = sorted(lines, key=lambda line: line[side])
    for line in ordered:
        line[label] = line[side] + 4
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        if lower[label] - upper[label] < LABEL_GAP:
            middle = (upper[label] + lower[label]) / 2
            upper[label] = round(middle - LABEL_GAP / 2, 1)
            lower[label] = round(middle + LABEL_GAP / 2, 1)
