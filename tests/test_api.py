"""The JSON API's foundation: the OpenAPI 3.1 document and its offline docs page, problem
details in the caller's language, paged lists in a stable order with fixed query counts, and
optimistic locking of actions with ETag and If-Match."""

from __future__ import annotations

import re

import pytest

from tests.api_support import bearer, make_token
from tests.conftest import count_queries, login
from tests.process_support import build_process

API_METHODS = {"GET", "PATCH", "POST", "PUT", "DELETE"}


@pytest.fixture
def token(app, world):
    return make_token(app, "coord@a.example", "nordland", scopes=("read", "write"))


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_the_document_is_openapi_3_1_and_lists_every_operation(app, client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.json
    assert spec["openapi"].startswith("3.1")
    from openapi_spec_validator import validate

    validate(spec)  # raises on any structural error
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    listed = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routed = {
        (_openapi_path(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/<tenant>")
        for method in rule.methods & API_METHODS
    }
    assert routed and routed <= listed, routed - listed
    patch = spec["paths"]["/api/v1/{tenant}/actions/{action_id}"]["patch"]
    assert {"412", "428", "422", "403"} <= set(patch["responses"])
    problem = spec["components"]["responses"]["NOT_FOUND"]["content"]
    assert "application/problem+json" in problem


def test_the_docs_page_uses_local_assets_only(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle.js" in a for a in assets)
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        assert client.get(asset).status_code == 200, asset
    assert "http://" not in html and "https://" not in html


def test_problem_details_in_the_callers_language(app, world, client, token):
    from portal.accounts.models import User
    from portal.extensions import db

    answer = client.get("/api/v1/nordland/clusters/999999", headers=bearer(token))
    assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
    body = answer.json
    assert set(body) >= {"type", "title", "status", "detail", "instance"}
    assert body["status"] == 404 and body["instance"] == "/api/v1/nordland/clusters/999999"
    english = body["title"]
    norwegian = client.get(
        "/api/v1/nordland/clusters/999999", headers=bearer(token, **{"Accept-Language": "nb"})
    ).json["title"]
    assert norwegian != english
    # No Accept-Language: the token owner's language.
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.email == "coord@a.example"))
        user.locale = "da"
        db.session.commit()
    danish = client.get("/api/v1/nordland/clusters/999999", headers=bearer(token)).json["title"]
    assert danish not in (english, norwegian)


def test_validation_errors_per_field(app, world, client, token):
    answer = client.get("/api/v1/nordland/clusters?per_page=1000&sort=x", headers=bearer(token))
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == {"per_page", "sort"}


def test_html_pages_keep_their_error_pages(app, world, client):
    login(client, "coord@a.example")
    answer = client.get("/nordland/clusters/999999")
    assert answer.status_code == 404 and answer.mimetype == "text/html"


def _clusters(factory, world, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        factory.cluster(
            world["a"], f"Cluster {i % 7} {i:03d}", sector="Energy" if i % 2 else "Food"
        )


def test_pages_in_a_stable_order_with_fixed_queries(app, world, factory, client, token):
    _clusters(factory, world, 10)
    counts = []
    for more in (0, 30):
        _clusters(factory, world, more, start=10)
        client.get("/api/v1/nordland/clusters", headers=bearer(token))  # last use written
        with count_queries(app) as statements:
            first = client.get("/api/v1/nordland/clusters?per_page=5", headers=bearer(token))
        assert first.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    seen = []
    total = first.json["total"]
    for page in range(1, -(-total // 7) + 1):
        answer = client.get(
            f"/api/v1/nordland/clusters?per_page=7&page={page}", headers=bearer(token)
        )
        seen += [(c["name"].lower(), c["id"]) for c in answer.json["items"]]
    assert len(seen) == total == len(set(seen)) == 42
    assert seen == sorted(seen)


def test_filters_and_sorts_like_the_clusters_page(app, world, factory, client, token):
    _clusters(factory, world, 6)
    energy = client.get("/api/v1/nordland/clusters?sector=energy", headers=bearer(token)).json
    assert energy["total"] == 3 and {c["sector"] for c in energy["items"]} == {"Energy"}
    found = client.get("/api/v1/nordland/clusters?q=arctic", headers=bearer(token)).json
    assert [c["name"] for c in found["items"]] == ["Arctic Minerals"]
    backwards = client.get("/api/v1/nordland/clusters?sort=-name", headers=bearer(token)).json
    names = [c["name"].lower() for c in backwards["items"]]
    assert names == sorted(names, reverse=True)
    one = client.get(f"/api/v1/nordland/clusters/{world['c1'].id}", headers=bearer(token)).json
    assert one["name"] == "Arctic Minerals" and one["member_count"] == 5


def test_plan_actions_listed_with_fixed_queries(app, world, client, token):
    process = build_process(app, world, actions=3)
    url = f"/api/v1/nordland/plans/{process.plan_id}/actions"
    client.get(url, headers=bearer(token))
    with count_queries(app) as few:
        small = client.get(url, headers=bearer(token))
    from tests.test_plan_scale import _add_actions

    _add_actions(app, world["a"].id, process.plan_id, 40, cluster_id=world["c1"].id)
    with count_queries(app) as many:
        large = client.get(url, headers=bearer(token))
    assert small.json["total"] == 3 and large.json["total"] == 43
    assert len(few) == len(many), (len(few), len(many))
    done = client.get(f"{url}?status=done", headers=bearer(token)).json
    assert done["total"] == 0
    other_plan = client.get("/api/v1/nordland/plans/999999/actions", headers=bearer(token))
    assert other_plan.status_code == 404


def test_etag_if_match_412_and_428(app, world, client, token):
    process = build_process(app, world, actions=1)
    url = f"/api/v1/nordland/actions/{process.action_ids[0]}"
    read = client.get(url, headers=bearer(token))
    etag = read.headers["ETag"]
    assert client.get(url, headers=bearer(token, **{"If-None-Match": etag})).status_code == 304
    missing = client.patch(url, json={"status": "in_progress"}, headers=bearer(token))
    assert missing.status_code == 428 and missing.json["status"] == 428
    changed = client.patch(
        url,
        json={"status": "in_progress", "progress": 30, "title": "Renamed", "due_date": None},
        headers=bearer(token, **{"If-Match": etag}),
    )
    assert changed.status_code == 200
    assert (
        changed.json["title"] == "Renamed" and changed.json["version"] == read.json["version"] + 1
    )
    assert changed.headers["ETag"] != etag
    stale = client.patch(url, json={"progress": 90}, headers=bearer(token, **{"If-Match": etag}))
    assert stale.status_code == 412
    assert client.get(url, headers=bearer(token)).json["progress"] == 30  # unchanged
    fresh = client.patch(
        url, json={"progress": 90}, headers=bearer(token, **{"If-Match": changed.headers["ETag"]})
    )
    assert fresh.status_code == 200 and fresh.json["progress"] == 90


def test_patch_is_validated_like_the_form(app, world, client, token):
    process = build_process(app, world, actions=1)
    url = f"/api/v1/nordland/actions/{process.action_ids[0]}"
    etag = client.get(url, headers=bearer(token)).headers["ETag"]
    headers = bearer(token, **{"If-Match": etag})
    for body, field in (
        ({"progress": 101}, "progress"),
        ({"title": "   "}, "title"),
        ({"progress": "abc"}, "progress"),
        ({"status": "finished"}, "status"),
        ({"owner_id": 1}, "owner_id"),
    ):
        answer = client.patch(url, json=body, headers=headers)
        assert answer.status_code == 422, body
        assert field in answer.json["errors"], answer.json
    # Done means 100 %, as in the form.
    done = client.patch(url, json={"status": "done", "progress": 10}, headers=headers)
    assert done.status_code == 200 and done.json["progress"] == 100


def test_another_regions_action_is_not_found(app, world, factory, client, token):
    from tests.isolation_support import seed_other_tenant

    foreign = seed_other_tenant(app)
    action_id = foreign.natural.get("action_id")
    answer = client.get(f"/api/v1/nordland/actions/{action_id}", headers=bearer(token))
    assert answer.status_code == 404


def test_a_crash_answers_a_problem_that_tells_nothing(app, world, client, token, monkeypatch):
    from portal.clusters import services

    def crash(*args, **kwargs):
        raise RuntimeError("SECRET-INTERNALS")

    monkeypatch.setattr(services, "clusters_with_counts", crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    answer = client.get("/api/v1/nordland/clusters", headers=bearer(token))
    assert answer.status_code == 500 and answer.mimetype == "application/problem+json"
    assert (
        "SECRET" not in answer.get_data(as_text=True) and "Traceback" not in answer.json["detail"]
    )


def test_an_unsupported_method_is_a_problem(app, world, client, token):
    answer = client.delete(f"/api/v1/nordland/clusters/{world['c1'].id}", headers=bearer(token))
    assert answer.status_code == 405 and answer.mimetype == "application/problem+json"


def test_query_counts_are_small(app, world, factory, client, token, capsys):
    """The numbers behind the fixed-count tests (printed for the report)."""
    process = build_process(app, world, actions=3)
    urls = {
        "clusters": "/api/v1/nordland/clusters",
        "cluster": f"/api/v1/nordland/clusters/{world['c1'].id}",
        "actions": f"/api/v1/nordland/plans/{process.plan_id}/actions",
        "action": f"/api/v1/nordland/actions/{process.action_ids[0]}",
    }
    client.get(urls["clusters"], headers=bearer(token))
    for name, url in urls.items():
        with count_queries(app) as statements:
            assert client.get(url, headers=bearer(token)).status_code == 200
        with capsys.disabled():
            print(f"\n{name}: {len(statements)} queries")
        assert len(statements) <= 8, statements
