"""The suite's clock: the whole test process, app included, runs on the day PORTAL_TEST_TODAY
names (CI's guard that no test depends on the real date), or on the real day from 10:00, so
that no run changes its day half-way (see tests/conftest.py)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import TEST_START


@pytest.mark.skipif(TEST_START is None, reason="PORTAL_TEST_TODAY=now: the real clock")
def test_the_run_is_on_the_day_it_was_asked_for(app):
    from portal.db import utcnow

    start = TEST_START.date()
    days = (start, start + timedelta(days=1))  # the clock keeps running: midnight may pass
    assert date.today() in days and datetime.now().date() in days
    assert datetime.fromtimestamp(time.time()).date() in days
    with app.app_context():
        # the app's own clock (its module-level imports of date and datetime) moved too
        assert utcnow().astimezone().date() in days
    assert abs(datetime.now(UTC) - utcnow()) < timedelta(minutes=1)
