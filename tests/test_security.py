"""Headers, CSRF, cookies, no state change on GET, no 500 on bad input."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD, ROLE_EMAILS, login
from tests.isolation_support import FORM, ROLES, SKIP_ENDPOINTS, snapshot, urls_for_rule
from tests.locking_support import version_on


def test_security_headers_on_html(client, world):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_inline_script_or_style_in_pages(client, world):
    login(client, "coord@a.example")
    for url in (
        "/nordland/",
        f"/nordland/clusters/{world['c1'].id}",
        "/nordland/settings",
        "/profile",
    ):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert "<style" not in html and " style=" not in html, url
        assert " on" + "click=" not in html


def test_session_cookie_is_httponly_and_samesite(client, world):
    response = client.post("/login", data={"email": "coord@a.example", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_is_required_on_forms_and_htmx(make_app, world):
    app = make_app({"WTF_CSRF_ENABLED": True})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    refused = client.post("/login", data={"email": "coord@a.example", "password": PASSWORD})
    assert refused.status_code == 400 and b"The form has expired" in refused.data
    accepted = client.post(
        "/login", data={"email": "coord@a.example", "password": PASSWORD, "csrf_token": token}
    )
    assert accepted.status_code == 302
    cid = world["c1"].id
    assert (
        client.post(f"/nordland/clusters/{cid}/edit", data={"name": "Renamed"}).status_code == 400
    )
    # htmx sends the token in a header (hx-headers on <body>).
    body = client.get("/nordland/").get_data(as_text=True)
    header_token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', body).group(1)
    fragment = client.post(
        f"/nordland/clusters/{cid}/edit",
        data={"name": "Renamed", "version": version_on(client, f"/nordland/clusters/{cid}/edit")},
        headers={"X-CSRFToken": header_token, "HX-Request": "true"},
    )
    assert fragment.status_code == 302
    error = client.post("/logout", headers={"HX-Request": "true"})
    assert error.status_code == 400 and b"<html" not in error.data


def test_get_requests_change_nothing(app, world, factory):
    """Every GET page, as every role, leaves the data as it was."""
    factory.enable_plugin(world["a"], "cluster_facts")
    own = {"cluster_id": world["c1"].id}
    emails = ROLE_EMAILS
    with app.test_request_context():
        before = snapshot(world["a"].id)
    for role in ROLES:
        client = app.test_client()
        login(client, emails[role])
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
                continue
            with app.test_request_context():
                values = urls_for_rule(rule, world["a"].slug, _no_foreign(world), own)[-1]
                url = app.url_map.bind("localhost").build(rule.endpoint, values)
            response = client.get(url)
            assert response.status_code < 500, (role, url)
    with app.test_request_context():
        assert snapshot(world["a"].id) == before


def _no_foreign(world):
    from types import SimpleNamespace

    return SimpleNamespace(ids=[world["c1"].id], natural={"cluster_id": world["c1"].id})


def test_garbage_posts_never_fail_with_500(app, world):
    client = app.test_client()
    login(client, "coord@a.example")
    junk = [
        dict.fromkeys(FORM, "\x00\u202e\ufffd" * 3),
        dict.fromkeys(FORM, "9" * 400),
        {"year": "-1", "founded_year": "1e9"},
    ]
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
            continue
        with app.test_request_context():
            values = urls_for_rule(
                rule, world["a"].slug, _no_foreign(world), {"cluster_id": world["c1"].id}
            )[-1]
            url = app.url_map.bind("localhost").build(rule.endpoint, values)
        for data in junk:
            response = client.post(url, data=data)
            assert response.status_code < 500, (url, data, response.status_code)


def test_uploads_over_the_limit_answer_413(make_app, world):
    app = make_app({"MAX_CONTENT_LENGTH": 1000})
    client = app.test_client()
    login(client, "coord@a.example")
    import io

    response = client.post(
        f"/nordland/clusters/{world['c1'].id}/members/import",
        data={"file": (io.BytesIO(b"x" * 5000), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and b"too large" in response.data


def test_behind_a_proxy_https_and_client_address_are_trusted(make_app, world):
    app = make_app({"PROXY_FIX": True})
    response = app.test_client().get(
        "/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert "Strict-Transport-Security" in response.headers
