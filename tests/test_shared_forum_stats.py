"""The forum's statistics (the compare plugin's scorecard aggregates) are computed once per
change and shared by every worker and host (portal.shared_figures): a second app instance on
the same database reads them without computing; a new round makes them computed again."""

from __future__ import annotations

from datetime import date

import pytest

from portal.tenancy import tenant_scope
from tests.conftest import login
from tests.test_compare_pages import FORUM, _enter, compared  # noqa: F401 - the fixture


@pytest.fixture
def computed(monkeypatch):
    import portal_compare.forumstats as forumstats

    calls = []
    real = forumstats.compute

    def counted(*args, **kwargs):
        calls.append(args[0].id)
        return real(*args, **kwargs)

    monkeypatch.setattr(forumstats, "compute", counted)
    return calls


def test_a_second_worker_reads_the_stored_statistics(app, make_app, compared, computed):  # noqa: F811
    first = app.test_client()
    login(first, "coord@a.example")
    page = first.get(FORUM)
    assert page.status_code == 200 and len(computed) == 1

    other = make_app()  # another worker or host: its own memory, the same database
    second = other.test_client()
    login(second, "observer@a.example")  # another viewer: the privacy policy still decides
    assert second.get(FORUM).status_code == 200
    assert len(computed) == 1

    with app.test_request_context(), tenant_scope(compared["a"].id):
        _enter(compared["c2"].id, date(2025, 9, 1), 4)  # a new round: new statistics
    assert second.get(FORUM).status_code == 200
    assert len(computed) == 2
    assert first.get(f"{FORUM}?sort=-score").status_code == 200
    assert len(computed) == 2  # the first worker reads what the second stored


def test_the_store_adds_only_if_absent_and_waits_for_a_claimant(app):
    from portal.shared_figures import key_for, shared_value, store

    with app.app_context():
        key = key_for("test", 1)
        assert shared_value(key, lambda: {"n": 1}) == {"n": 1}
        assert shared_value(key, lambda: {"n": 2}) == {"n": 1}  # stored: not computed again
        assert not store().add(key, b"other", 60)  # never overwritten
        other = key_for("test", 2)
        assert store().add(f"lock:{other}", b"", 60)  # another worker computes it
        assert shared_value(other, lambda: "mine", wait=0.2) == "mine"  # it died: compute
