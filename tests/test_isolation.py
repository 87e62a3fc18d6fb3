"""Tenant isolation: every URL rule, every role, every object id of another tenant.

New pages are covered automatically: the walk reads the app's URL map.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import IntegerConverter

from tests.api_support import bearer, make_token
from tests.conftest import ROLE_EMAILS, USE_POSTGRES, login
from tests.isolation_support import (
    FORM,
    ROLES,
    SECRET,
    SKIP_ENDPOINTS,
    seed_other_tenant,
    snapshot,
    urls_for_rule,
)

# CI's second run, on PostgreSQL, walks as the roles at the ends of the permission range and
# the one bound to its own clusters (the SQL is the same for all); the SQLite run, as every
# role.
WALK_ROLES = ("coordinator", "cluster_manager", "observer") if USE_POSTGRES else ROLES


def api_request(app, role: str, rule, tokens: dict) -> dict | None:
    """For a rule of the JSON API: the role's token (made once) and a JSON body; else None."""
    if not rule.rule.startswith("/api/"):
        return None
    if role not in tokens:
        tokens[role] = make_token(app, ROLE_EMAILS[role], "nordland", scopes=("read", "write"))
    return {"headers": bearer(tokens[role], **{"If-Match": "*"}), "json": {"title": "Changed"}}


@pytest.fixture
def walk_setup(app, world, factory):
    for plugin in ("cluster_facts", "esca", "compare", "joint"):
        factory.enable_plugin(world["a"], plugin)  # their pages are walked too
    foreign = seed_other_tenant(app)
    own = {"cluster_id": world["c1"].id}
    with app.test_request_context():
        before = snapshot(foreign.id)
    return foreign, own, before


@pytest.mark.parametrize("role", WALK_ROLES)
def test_no_url_reaches_another_tenants_objects(app, world, walk_setup, role):
    foreign, own, before = walk_setup
    client = app.test_client()
    login(client, ROLE_EMAILS[role])
    checked = 0
    tokens: dict = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        has_ids = any(isinstance(c, IntegerConverter) for c in rule._converters.values())
        with app.test_request_context():
            urls = [
                app.url_map.bind("localhost").build(rule.endpoint, values, force_external=False)
                for values in urls_for_rule(rule, world["a"].slug, foreign, own)
            ]
        # The JSON API: with a read-and-write token of the role's own region.
        api = api_request(app, role, rule, tokens)
        for url in urls:
            for method in ("GET", "POST", "PATCH"):
                if method not in rule.methods:
                    continue
                if api:
                    response = client.open(url, method=method, **api)
                else:
                    response = client.open(
                        url, method=method, data=FORM if method == "POST" else None
                    )
                checked += 1
                assert response.status_code < 500, (method, url, response.status_code)
                body = response.get_data().decode("utf-8", errors="replace")  # exports are binary
                assert SECRET not in body, f"{method} {url} shows another tenant's data"
                if has_ids:
                    assert response.status_code in (403, 404), (method, url, response.status_code)
    with app.test_request_context():
        assert snapshot(foreign.id) == before, "another tenant's rows changed"
    assert checked > 50


@pytest.mark.parametrize("role", WALK_ROLES)
def test_another_tenants_pages_answer_404(app, world, walk_setup, role):
    foreign, _own, before = walk_setup
    client = app.test_client()
    login(client, ROLE_EMAILS[role])
    tokens: dict = {}
    for rule in app.url_map.iter_rules():
        if "tenant" not in rule.arguments:
            continue
        api = api_request(app, role, rule, tokens)
        with app.test_request_context():
            for values in urls_for_rule(rule, foreign.slug, foreign, foreign.natural):
                url = app.url_map.bind("localhost").build(rule.endpoint, values)
                for method in sorted(rule.methods & {"GET", "POST", "PATCH"}):
                    if api:
                        # A token of one region counts in no other: 401, whatever the id.
                        response = client.open(url, method=method, **api)
                        assert response.status_code == 401, (method, url, response.status_code)
                    else:
                        response = client.open(
                            url, method=method, data=FORM if method == "POST" else None
                        )
                        assert response.status_code == 404, (method, url, response.status_code)
                    assert SECRET not in response.get_data().decode("utf-8", errors="replace")
    with app.test_request_context():
        assert snapshot(foreign.id) == before
