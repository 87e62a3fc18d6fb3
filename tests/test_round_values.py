"""The region's round values kept per process (``portal.improvement.measure.round_values``):
the newest value up to a day and the first after it, per cluster, as a plain walk over the
rounds finds them; asked again (from the kept slices) they answer the same, and a new round
makes a new set of values. Dates are relative to the suite's day."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from portal.improvement.measure import round_values
from portal.tenancy import tenant_scope
from tests.improvement_support import ENGAGEMENT, TODAY, add_round

# (cluster, days ago, engagement); None: the round has no engagement value
ROUNDS = [("c1", 700, 2), ("c1", 400, 3), ("c1", 100, None), ("c1", 40, 4), ("c2", 400, 1)]


def _walk(rows, cluster, day, before):
    """The plain answer: the cluster's rounds by day, the newest up to ``day`` (or the first
    after it); its value if that round has one."""
    held = sorted((d, v) for c, d, v in rows if c == cluster)
    pick = [r for r in held if r[0] <= day] if before else [r for r in held if r[0] > day]
    chosen = pick[-1] if before and pick else pick[0] if pick else None
    return None if chosen is None or chosen[1] is None else Decimal(chosen[1])


def test_values_before_and_after_a_day_match_a_plain_walk_and_stay_after_asking_again(app, world):
    a = world["a"].id
    rows = []
    for name, ago, value in ROUNDS:
        held_on = TODAY - timedelta(days=ago)
        add_round(app, a, world[name].id, held_on, {} if value is None else {"engagement": value})
        rows.append((world[name].id, held_on, value))
    days = sorted(
        {d for _c, d, _v in rows} | {d + timedelta(days=k) for _c, d, _v in rows for k in (-1, 1)}
    )
    with app.test_request_context(), tenant_scope(a):
        values = round_values(a, [ENGAGEMENT])
        for _ in range(2):  # the second time from the kept slices
            for day in days:
                for before in (True, False):
                    found = (values.before if before else values.after)(ENGAGEMENT, day)
                    expected = {
                        c: v
                        for c in (world["c1"].id, world["c2"].id)
                        if (v := _walk(rows, c, day, before)) is not None
                    }
                    assert found == expected, (day, before)
        assert round_values(a, [ENGAGEMENT]) is values  # kept
    add_round(app, a, world["c2"].id, TODAY - timedelta(days=10), {"engagement": 5})
    with app.test_request_context(), tenant_scope(a):
        renewed = round_values(a, [ENGAGEMENT])
        assert renewed is not values
        assert renewed.before(ENGAGEMENT, TODAY)[world["c2"].id] == Decimal(5)
