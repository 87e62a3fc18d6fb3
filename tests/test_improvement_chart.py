"""The small before/after chart's arithmetic and the direction an effect moved: pure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from portal.improvement.chart import BOTTOM, LABEL_GAP, TOP, before_after
from portal.improvement.effect import (
    DECLINED,
    IMPROVED,
    NO_DATA,
    OK,
    TOO_FEW,
    UNCHANGED,
    Effect,
    Group,
    Window,
    direction,
)

SPAN = Window(date(2025, 1, 1), date(2026, 1, 1))


def _effect(ours: Group, others: Group, reason: str = OK) -> Effect:
    return Effect("engagement", SPAN, ours, others, reason, 3)


def test_lines_are_placed_on_the_indicators_scale():
    chart = before_after(
        [("worked", Decimal(2), Decimal(4)), ("others", Decimal(3), Decimal(4))], (0.0, 5.0)
    )
    assert (chart["low"], chart["high"]) == (Decimal(0), Decimal(5))
    worked = chart["lines"]["worked"]
    assert worked["y1"] == round(BOTTOM - 0.4 * (BOTTOM - TOP), 1)
    assert worked["y2"] == round(BOTTOM - 0.8 * (BOTTOM - TOP), 1)
    # Both end at 4: their labels are moved apart, not drawn on each other.
    others = chart["lines"]["others"]
    assert abs(worked["label_y2"] - others["label_y2"]) >= LABEL_GAP - 0.1


def test_a_line_without_both_values_is_left_out_and_none_without_any():
    chart = before_after([("worked", Decimal(2), Decimal(3)), ("others", None, None)], None)
    assert list(chart["lines"]) == ["worked"]
    assert chart["low"] == Decimal(2) and chart["high"] == Decimal(3)
    assert before_after([("others", None, Decimal(1))], (0, 5)) is None
    flat = before_after([("worked", Decimal(3), Decimal(3))], None)
    assert (flat["low"], flat["high"]) == (Decimal(2), Decimal(4))  # a flat line in the middle


@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=-10, max_value=10, places=2),
            st.decimals(min_value=-10, max_value=10, places=2),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_every_point_is_inside_the_drawing(values):
    chart = before_after([(str(i), b, a) for i, (b, a) in enumerate(values)], (0.0, 5.0))
    for line in chart["lines"].values():
        for side in ("y1", "y2"):
            assert TOP - 0.1 <= line[side] <= BOTTOM + 0.1


def test_direction_respects_higher_is_better_and_the_comparison():
    better = _effect(
        Group(1, Decimal(2), Decimal(4), Decimal(2)), Group(3, Decimal(3), Decimal(4), Decimal(1))
    )
    assert direction(better, True) == IMPROVED
    assert direction(better, False) == DECLINED  # lower is better: going up is worse
    level = _effect(
        Group(1, Decimal(2), Decimal(3), Decimal(1)), Group(3, Decimal(3), Decimal(4), Decimal(1))
    )
    assert direction(level, True) == UNCHANGED  # moved as much as the others
    alone = _effect(Group(1, Decimal(2), Decimal(3), Decimal(1)), Group(2), TOO_FEW)
    assert direction(alone, True) == IMPROVED  # no comparison shown: its own change
    hidden = _effect(Group(1), Group(3), TOO_FEW)
    assert direction(hidden, True) is None
    assert direction(_effect(Group(0), Group(3), NO_DATA), True) is None
    assert direction(None, True) is None
