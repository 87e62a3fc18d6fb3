"""Small daily things of issue 17: ``/plans/new`` without a parameter asks what the plan is for;
the joint board's "move to" starts at the card's own status. (Attendance before a workshop
begins: tests/test_workshops.py::test_attendance_marking; the demo's language:
tests/test_demo_story.py.)"""

from __future__ import annotations

import re

import pytest

from tests.conftest import Factory, login
from tests.process_support import build_process
from tests.test_joint_pages import _client, joint  # noqa: F401 - the fixture

NEW = "/nordland/plans/new"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r">([^<]+)</option>", select.group(1)) if select else []


def test_the_chooser_offers_clusters_and_programmes_to_a_coordinator(app, world, client):
    build_process(app, world)
    login(client, "coord@a.example")
    response = client.get(NEW)
    assert response.status_code == 200
    page = _text(response)
    assert "What is the plan for?" in page
    assert _options(page, "cluster_id") == ["Arctic Minerals", "Helgeland Health"]
    assert _options(page, "programme_id") == ["Forum 2026-2028"]
    # Each choice leads to the form it was made for, by a plain GET (no JavaScript needed).
    assert 'action="/nordland/plans/new"' in page and 'method="get"' in page
    chosen = client.get(f"{NEW}?cluster_id={world['c1'].id}")
    assert chosen.status_code == 200 and "New plan for Arctic Minerals" in _text(chosen)


def test_a_manager_chooses_among_their_own_clusters_only(app, world, client):
    build_process(app, world)
    login(client, "manager@a.example")
    page = _text(client.get(NEW))
    assert _options(page, "cluster_id") == ["Arctic Minerals"]
    assert 'name="programme_id"' not in page  # joint plans: coordinators


@pytest.mark.parametrize("email", ["observer@a.example", "assessor@a.example"])
def test_who_may_plan_nothing_is_refused(world, client, email):
    login(client, email)
    assert client.get(NEW).status_code == 403


def test_a_choice_that_is_no_number_asks_again(world, client):
    login(client, "coord@a.example")
    response = client.get(f"{NEW}?cluster_id=abc")
    assert response.status_code == 400
    assert "Choose what the plan is for" in _text(response)


def test_another_regions_cluster_is_not_found(app, world, client):
    other = Factory(app).cluster(world["b"], "Bravo Cluster")
    login(client, "coord@a.example")
    assert client.get(f"{NEW}?cluster_id={other.id}").status_code == 404
    assert "Bravo Cluster" not in _text(client.get(NEW))


def test_move_to_starts_at_the_cards_own_status(app, joint):  # noqa: F811
    client = _client(app, "coordinator")
    board = _text(client.get(f"/nordland/joint/?programme={joint.programme_id}"))
    select = re.search(rf'<select id="move-{joint.branding}".*?</select>', board, re.S).group(0)
    assert re.search(r'<option value="proposed" selected>', select)
    assert select.count(" selected") == 1
    detail = _text(client.get(f"/nordland/joint/actions/{joint.branding}"))
    select = re.search(r'<select id="move-status".*?</select>', detail, re.S).group(0)
    assert re.search(r'<option value="proposed" selected>', select)
    # Submitting the form unchanged keeps the status (and says so, as a move would).
    assert "proposed" in select
