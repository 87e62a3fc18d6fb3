"""Light pages: answers compressed with brotli or gzip (not PDFs, not tiny bodies, not where a
signed-in page could reflect guesses: BREACH), streamed downloads still streamed, and weak
ETags with their 304 on every read-only page of a region, never shared between users."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from urllib.parse import urlsplit

import brotli
import pytest

from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.storage import storage
from portal.tenancy import tenant_scope
from tests.conftest import login
from tests.test_generated_requests import region  # noqa: F401 - the fixture

DASHBOARD = "/nordland/clusters/"


def _decoded(response) -> bytes:
    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    assert encoding is None, encoding
    return body


@pytest.mark.parametrize("accept, encoding", [("br", "br"), ("gzip", "gzip"), ("", None)])
def test_pages_are_compressed_as_the_browser_accepts(client, world, accept, encoding):
    login(client, "coord@a.example")
    plain = client.get(DASHBOARD, headers={"Accept-Encoding": ""})
    response = client.get(DASHBOARD, headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert _decoded(response).count(b"<main") == plain.get_data().count(b"<main") == 1
    assert len(_decoded(response)) > 1024
    if encoding:
        assert len(response.get_data()) < len(plain.get_data()) / 3


def test_br_is_preferred_and_tiny_bodies_stay_plain(client, world):
    response = client.get("/login", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    tiny = client.get("/health", headers={"Accept-Encoding": "br"})
    if tiny.status_code == 200 and len(tiny.get_data()) < 1024:
        assert "Content-Encoding" not in tiny.headers


def test_signed_in_pages_with_a_query_string_are_not_compressed(client, world):
    """BREACH: a cross-site link chooses the query string; the page holds the CSRF token."""
    login(client, "coord@a.example")
    response = client.get("/nordland/search?q=csrf_token", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]
    # without cookies (a public page) the same kind of URL is compressed
    public = db_free_client = client.application.test_client()
    answer = db_free_client.get("/login?next=%2Fnordland%2F", headers={"Accept-Encoding": "br"})
    assert answer.headers.get("Content-Encoding") == "br"
    assert public is db_free_client


def _stored(app, world, data: bytes, content_type: str, name: str) -> str:
    from portal.workshops import services as workshops

    with app.test_request_context(), tenant_scope(world["a"].id):
        from datetime import date, time, timedelta

        workshop = workshops.create_workshop(
            None,
            {
                "title": "Light workshop",
                "day": date.today() + timedelta(days=7),
                "start_time": time(9, 30),
                "end_time": time(15, 0),
                "location": "Bodø",
            },
            world["a"].id,
        )
        key = f"t{world['a'].id}/files/{name}"
        storage().save(key, io.BytesIO(data), content_type)
        row = StoredFile(
            tenant_id=world["a"].id,
            workshop_id=workshop.id,
            filename=name,
            content_type=content_type,
            size=len(data),
            sha256="0" * 64,
            storage_key=key,
        )
        db.session.add(row)
        db.session.commit()
        return f"/nordland/workshops/{workshop.id}/materials/{row.id}"


def test_a_streamed_download_still_streams_and_a_pdf_is_not_compressed(app, client, world):
    text = os.urandom(1_000_000).hex().encode()  # 2 MB that compress to about half
    text_url = _stored(app, world, text, "text/csv", "scores.csv")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 4000
    pdf_url = _stored(app, world, pdf, "application/pdf", "report.pdf")
    login(client, "coord@a.example")
    response = client.get(text_url, headers={"Accept-Encoding": "br"}, buffered=False)
    assert response.status_code == 200 and response.is_streamed
    chunks = list(response.response)
    response.close()
    assert len(chunks) > 1 and response.headers["Content-Encoding"] == "br"
    assert "Content-Length" not in response.headers
    assert brotli.decompress(b"".join(chunks)) == text
    gzipped = client.get(text_url, headers={"Accept-Encoding": "gzip"}, buffered=False)
    assert gzipped.is_streamed and gzipped.headers["Content-Encoding"] == "gzip"
    assert zlib.decompress(b"".join(gzipped.response), 16 + zlib.MAX_WBITS) == text
    gzipped.close()
    file = client.get(pdf_url, headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in file.headers and file.get_data() == pdf
    assert file.headers["Content-Length"] == str(len(pdf))


def test_the_printable_pdf_is_not_compressed(client, world):
    login(client, "coord@a.example")
    response = client.get("/nordland/reports/", headers={"Accept-Encoding": "br"})
    pdfs = [u for u in _links(response.get_data(as_text=True)) if u.endswith(".pdf")]
    for url in pdfs[:1]:
        answer = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        assert answer.mimetype == "application/pdf"
        assert "Content-Encoding" not in answer.headers


def _links(page: str) -> list[str]:
    import re

    return [u.replace("&amp;", "&") for u in re.findall(r'href="(/nordland/[^"]+)"', page)]


# --- ETags ------------------------------------------------------------------------------------


def _read_pages(app, region_) -> list[str]:  # noqa: F811
    """The region's GET URLs as the generated-requests walk builds them (the first id of each
    kind); a route with a kind of id the walk does not know yet is left out here (the walk
    itself fails for it)."""
    from tests import walk_support

    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        ids = walk_support.own_ids(region_["a"].id)
        urls = []
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in walk_support.SKIP:
                continue
            numbered = walk_support.int_arguments(rule)
            if "tenant" not in rule.arguments or any(a not in ids for a in numbered):
                continue
            if any(not ids[a] for a in numbered):
                continue
            fixed = rule.defaults or {}
            values = {a: "x" for a in rule.arguments if a not in numbered and a not in fixed}
            values |= {"tenant": "nordland"} | {a: ids[a][0] for a in numbered}
            urls.append(adapter.build(rule.endpoint, values))
    return [
        url
        for url in urls
        if not urlsplit(url).path.endswith((".pdf", ".xlsx", ".csv", ".ics", ".zip"))
    ]


def test_read_only_pages_answer_304_to_their_etag(app, region):  # noqa: F811
    client = app.test_client()
    login(client, "coord@a.example")
    tagged, unchanged, changed = [], [], []
    for url in _read_pages(app, region):
        response = client.get(url, headers={"Accept-Encoding": "br"})
        if response.status_code != 200 or response.mimetype not in (
            "text/html",
            "application/json",
        ):
            continue
        etag = response.headers.get("ETag")
        assert etag, url
        assert "Cookie" in response.headers.get("Vary", "") or "compare" in url, url
        tagged.append(url)
        again = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "br"})
        if again.status_code == 304:
            assert not again.get_data(), url
            unchanged.append(url)
        else:  # the page changed in between (it marks something seen, shows the time)
            assert again.status_code == 200 and again.headers["ETag"] != etag, url
            changed.append(url)
    assert len(tagged) > 40, tagged
    assert len(unchanged) >= 0.9 * len(tagged), changed


def test_etags_are_not_shared_between_users(app, region):  # noqa: F811
    coordinator, observer = app.test_client(), app.test_client()
    login(coordinator, "coord@a.example")
    login(observer, "observer@a.example")
    checked = 0
    for url in _read_pages(app, region)[:60]:
        first = coordinator.get(url)
        if first.status_code != 200 or "ETag" not in first.headers:
            continue
        other = observer.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert other.status_code != 304, url
        checked += 1
    assert checked > 20
