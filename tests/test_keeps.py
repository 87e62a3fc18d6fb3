"""The process's keeps (portal.keeps): bounded, oldest first out, per app, and all emptied by
``forget_all`` (the core's, a plugin's through the toolkit, and the plugin host's switches)."""

from __future__ import annotations

import pytest
from flask import Flask

from portal.keeps import Keep, forget_all, named, names


def test_a_keep_drops_the_least_recently_used_entry_when_full(app):
    keep = Keep("test_keep_lru", at_most=2)
    with app.app_context():
        keep.put("a", 1)
        keep.put("b", 2)
        assert keep.get("a") == 1  # a used: b is now the oldest
        keep.put("c", 3)
        assert keep.get("b") is None
        assert (keep.get("a"), keep.get("c"), len(keep)) == (1, 3, 2)
        made = []
        assert keep.get_or_make("d", lambda: made.append(1) or 4) == 4
        assert keep.get_or_make("d", lambda: made.append(1) or 5) == 4
        assert made == [1]


def test_each_app_has_its_own_entries(app):
    keep = Keep("test_keep_apps", at_most=4)
    other = Flask("another")
    with app.app_context():
        keep.put("k", "first app")
    with other.app_context():
        assert keep.get("k") is None


def test_a_keep_holds_one_entry_at_least():
    with pytest.raises(ValueError):
        Keep("test_keep_empty", at_most=0)


def test_forget_all_empties_every_keep_the_core_and_plugins_use(app, client, world):
    import portal.improvement.summaries  # noqa: F401 - imported: their keeps exist
    import portal.labels.calendar_data  # noqa: F401
    from tests.conftest import login

    login(client, "coord@a.example")
    assert client.get("/nordland/").status_code == 200  # fills some keeps
    expected = {
        "portal_label_evaluations",
        "portal_label_risks",
        "portal_improvement_summaries",
        "portal_plugin_work",
        "portal_region_action_work",
        "portal_round_values",
        "portal_viewer_profiles",
        "portal_values_sharing",
        "portal_members_seen",
        "portal_compare_stats",  # the compare plugin's, through portal.toolkit.Keep
    }
    assert expected <= set(names())
    host = app.extensions["portal_plugins"]
    with app.app_context():
        for name in expected:
            named(name).put("filled", True)
        host._enabled_by_version[(0, 0)] = frozenset()
        forget_all(app)
        assert all(named(name).get("filled") is None for name in expected)
    assert not host._enabled_by_version
