"""Medians and quartiles of the comparisons plugin against the statistics module."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st
from portal_compare.stats import percentile_rank, position, quantile, summarise

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Few distinct values make ties common, as with 0..5 points.
points = st.integers(min_value=0, max_value=5).map(float)
values = st.lists(st.one_of(finite, points), min_size=1, max_size=60)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@given(values)
def test_quartiles_match_the_statistics_module(data):
    summary = summarise(data)
    assert summary.count == len(data) and summary.missing == 0
    assert close(summary.median, statistics.median(data))
    if len(data) >= 2:
        q1, q2, q3 = statistics.quantiles(data, n=4, method="inclusive")
        assert close(summary.q1, q1) and close(summary.q3, q3) and close(summary.median, q2)
    assert summary.minimum == min(data) and summary.maximum == max(data)
    assert summary.minimum <= summary.q1 <= summary.median <= summary.q3 <= summary.maximum


@given(values, st.lists(st.sampled_from([None, math.nan]), max_size=10))
def test_missing_values_are_left_out_and_counted(data, gaps):
    summary = summarise(data + gaps)
    assert summary.count == len(data) and summary.missing == len(gaps)
    assert close(summary.median, statistics.median(data))


def test_one_cluster_is_its_own_median_and_quartiles():
    summary = summarise([3.0], ["yellow"])
    assert (summary.q1, summary.median, summary.q3) == (3.0, 3.0, 3.0)
    assert summary.share("yellow") == 1.0 and summary.share("red") == 0.0


def test_no_value_gives_no_aggregate():
    assert summarise([]) is None
    assert summarise([None, math.nan]) is None


def test_ties_and_light_shares():
    summary = summarise([4, 4, 4, 1], ["green", "green", "green", "red"])
    assert (summary.q1, summary.median, summary.q3) == (3.25, 4.0, 4.0)
    assert summary.lights == {"red": 1, "yellow": 0, "green": 3}
    assert summary.share("green") == 0.75


@given(st.lists(finite, min_size=1, max_size=40), st.floats(min_value=0, max_value=1))
def test_quantile_is_monotone_and_within_the_data(data, p):
    ordered = sorted(data)
    q = quantile(ordered, p)
    assert ordered[0] - 1e-6 <= q <= ordered[-1] + 1e-6
    assert quantile(ordered, 0) == ordered[0] and quantile(ordered, 1) == ordered[-1]


@pytest.mark.parametrize(
    ("value", "higher", "expected"),
    [(0, True, 0.0), (5, True, 1.0), (2.5, True, 0.5), (0, False, 1.0), (9, True, 1.0)],
)
def test_position_on_the_scale(value, higher, expected):
    assert position(value, 0, 5, higher) == expected


def test_percentile_rank_counts_ties_half():
    assert percentile_rank(3, [1, 3, 3, 5]) == 0.5
    assert percentile_rank(0, []) == 0.0
