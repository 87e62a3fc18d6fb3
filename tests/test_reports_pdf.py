"""Reports as files: the programme progress report (page and PDF), the comparison reports as
PDF, the cover saying who may read it, the privacy policy in the PDFs, permissions, query
counts, and no network fetch while a report renders.

WeasyPrint is slow (a second or so a render): each test renders as few PDFs as it can."""

from __future__ import annotations

import io
import re
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pypdf import PdfReader

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.conftest import count_queries, free_port, login
from tests.label_calendar_support import benchmark
from tests.process_support import build_process

TODAY = date.today()
VALUE = 3.17  # every indicator of Helgeland Health's (c2's) round
NUMBER = re.compile(r"(?<![\d.,])3[.,]17(?![\d])")


def _pdf(response) -> tuple[PdfReader, str]:
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


def _fonts(reader: PdfReader) -> set[str]:
    found = set()
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            found.add(str(font.get_object().get("/BaseFont")))
    return found


@pytest.fixture
def programme(app, world, factory):
    """A programme of both clusters (goals, plans, an overdue action, a joint plan), the joint
    plugin with a joint action; Arctic Minerals (c1) holds a bronze label from a benchmarking
    13 months ago, Helgeland Health (c2) was benchmarked two months ago."""
    from portal_joint.models import JointAction, JointStatus, Participation

    for plugin in ("esca", "joint"):
        factory.enable_plugin(world["a"], plugin)
    process = build_process(app, world)
    benchmark(app, world["a"].id, world["c1"].id, TODAY - timedelta(days=396), label=True)
    benchmark(app, world["a"].id, world["c2"].id, TODAY - timedelta(days=60))
    with app.test_request_context(), tenant_scope(world["a"].id):
        action = JointAction(
            tenant_id=world["a"].id,
            programme_id=process.programme_id,
            title="Joint export fair",
            status=JointStatus.IN_PROGRESS,
            due_date=TODAY - timedelta(days=3),
        )
        db.session.add(action)
        db.session.flush()
        db.session.add_all(
            Participation(
                tenant_id=world["a"].id,
                action_id=action.id,
                cluster_id=cluster.id,
                joined_on=TODAY - timedelta(days=20),
                progress=40,
            )
            for cluster in (world["c1"], world["c2"])
        )
        db.session.commit()
    return process


def test_the_programme_report_as_a_page_and_as_a_pdf(app, client, world, programme):
    login(client, "coord@a.example")
    base = f"/nordland/programmes/{programme.programme_id}"
    assert f'href="{base}/report"' in client.get(base).get_data(as_text=True)
    page = client.get(f"{base}/report").get_data(as_text=True)
    assert 'class="report-cover"' in page and f'href="{base}/report.pdf"' in page
    for expected in (
        "Programme progress report",
        "Forum 2026-2028",
        "Nordland Forum",
        "Prepared for Coord, coordinator",
        "Contains every cluster&#39;s own values",
        "Silver before the bronze label expires",  # c1's goal
        "Arctic Minerals",
        "Helgeland Health",
        "Joint plan",
        "Action 000",  # overdue since yesterday
        "Joint export fair",
        "Effort saved",
    ):
        assert expected in page, expected
    assert "Bronze" in page and "no renewal planned" in page  # c1's label lapses within a year

    started = time.perf_counter()
    reader, text = _pdf(client.get(f"{base}/report.pdf"))
    seconds = time.perf_counter() - started
    assert len(reader.pages) >= 2  # the cover is a page of its own
    cover = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    for expected in (
        "Programme progress report",
        "Forum 2026-2028",
        "Nordland Forum",
        "Prepared for Coord, coordinator",
        "Contains every cluster's own values",
    ):
        assert expected in cover, expected
    long_today = f"{TODAY.day} {TODAY.strftime('%B')} {TODAY.year}".replace(" 0", " ")
    assert f"{TODAY.strftime('%B')} {TODAY.day}, {TODAY.year}" in cover or long_today in cover
    assert "Page" not in cover  # no page number on the cover
    for expected in (
        "Silver before the bronze label expires",
        "Arctic Minerals",
        "Helgeland Health",
        "Action 000",
        "Joint export fair",
        "Effort saved",
        f"Page 2 of {len(reader.pages)}",
    ):
        assert expected in text, expected
    fonts = _fonts(reader)  # the vendored Noto Sans, under the name the print CSS gives it
    assert fonts and all("Report-Sans" in font for font in fonts), fonts
    assert seconds < 30, seconds


def test_the_programme_report_tells_an_observer_less(app, client, world, programme):
    login(client, "observer@a.example")
    base = f"/nordland/programmes/{programme.programme_id}"
    page = client.get(f"{base}/report").get_data(as_text=True)
    assert "Prepared for Observer, observer" in page
    assert "Contains no cluster&#39;s own values" in page
    # Whether a next level can be reached rests on the clusters' values: not for observers.
    assert page.count("Not shown (the cluster's own values)") == 2
    assert "can apply now" not in page and "earliest" not in page.split("Next level")[1][:2000]
    coordinator = app.test_client()
    login(coordinator, "coord@a.example")
    assert "can apply now" in coordinator.get(f"{base}/report").get_data(as_text=True)
    # Labels held are public: the observer sees c1's bronze.
    assert "Bronze" in page
    _reader, text = _pdf(client.get(f"{base}/report.pdf"))
    assert "Prepared for Observer, observer" in text
    assert "Contains no cluster's own values" in text and "can apply now" not in text


def test_the_programme_report_of_another_region_is_not_found(
    app, client, world, programme, factory
):
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    login(client, "coord@b.example")
    for suffix in ("report", "report.pdf"):
        assert client.get(f"/bravo/programmes/{programme.programme_id}/{suffix}").status_code == 404
        assert client.get(
            f"/nordland/programmes/{programme.programme_id}/{suffix}"
        ).status_code in (
            403,
            404,
        )
    anonymous = app.test_client()
    response = anonymous.get(f"/nordland/programmes/{programme.programme_id}/report.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(anonymous, "coord@a.example")
    assert anonymous.get("/nordland/programmes/999999/report.pdf").status_code == 404


def test_the_programme_report_runs_the_same_queries_at_any_size(app, client, world, programme):
    from tests.test_programme_scale import _grow

    login(client, "coord@a.example")
    url = f"/nordland/programmes/{programme.programme_id}/report"
    client.get(url)

    def counted() -> int:
        # As a process's first render: the plugins' kept answers are not counted on.
        app.extensions.pop("portal_plugin_work", None)
        with count_queries(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    small = counted()
    _grow(app, world["a"].id, programme.programme_id, clusters=20)
    middle = counted()
    _grow(app, world["a"].id, programme.programme_id, clusters=20, start=20)
    assert counted() == middle == small
    page = client.get(url).get_data(as_text=True)
    assert "Grown 039" in page and "Joint action 39" in page  # a report has every row


# --- the comparison reports -----------------------------------------------------------------


@pytest.fixture
def compared(app, world, factory):
    """ESCA and comparisons on; c1 benchmarked with 4.0 everywhere and its report shared with
    the observers; c2 with 3.17 everywhere, not shared."""
    from portal.benchmarking.services import find_set, save_round
    from portal.clusters.models import Cluster
    from portal.privacy.services import share_with_observers

    for plugin in ("esca", "compare"):
        factory.enable_plugin(world["a"], plugin)
    with app.test_request_context(), tenant_scope(world["a"].id):
        indicator_set = find_set("esca-gold", "2013")
        for cluster_id, value in ((world["c1"].id, 4.0), (world["c2"].id, VALUE)):
            cluster = db.session.get(Cluster, cluster_id)
            values = {i.id: (value, "") for i in indicator_set.indicators}
            save_round(
                None, cluster, indicator_set, {"held_on": TODAY - timedelta(days=30)}, values
            )
        share_with_observers(None, db.session.get(Cluster, world["c1"].id), True)
    return world


def test_the_comparison_reports_download_as_pdf_under_the_privacy_policy(app, client, compared):
    c1, c2 = compared["c1"].id, compared["c2"].id
    query = "?set=esca-gold&version=2013"
    login(client, "coord@a.example")
    report = client.get(f"/nordland/compare/clusters/{c2}/report{query}").get_data(as_text=True)
    pdf_url = f"/nordland/compare/clusters/{c2}/report.pdf{query.replace('?', '?')}"
    assert "Download PDF" in report and pdf_url.split("?")[0] in report
    reader, text = _pdf(client.get(pdf_url))
    assert "Benchmarking report" in text and "Helgeland Health" in text
    assert "Prepared for Coord, coordinator" in text
    assert NUMBER.search(text), "the coordinator's PDF carries c2's own values"
    assert len(reader.pages) >= 2

    observer = app.test_client()
    login(observer, "observer@a.example")
    assert observer.get(f"/nordland/compare/clusters/{c2}/report.pdf{query}").status_code == 403
    _reader, shared = _pdf(observer.get(f"/nordland/compare/clusters/{c1}/report.pdf{query}"))
    assert "Arctic Minerals" in shared and "Prepared for Observer, observer" in shared
    assert "clusters that shared them" in shared
    _reader, forum = _pdf(observer.get(f"/nordland/compare/forum/report.pdf{query}"))
    assert "Regional cluster excellence scorecard" in forum
    assert not NUMBER.search(forum), "an observer's PDF carries no value of c2"
    assert "Helgeland Health" not in forum


# --- nothing from the network ---------------------------------------------------------------


class _Counting(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Counting.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_report_fetches_nothing_from_the_network(app):
    from portal.reports.pdf import render_pdf

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Counting.hits.clear()
    outside = f"http://127.0.0.1:{port}"
    html = f"""<!doctype html><html><head>
      <link rel="stylesheet" href="{outside}/style.css">
      <link rel="stylesheet" href="/static/app.css">
      <style>@import url("{outside}/imported.css");
        body {{ background: url("{outside}/background.png"); }}</style></head>
      <body><div class="report-cover"><h1>Outside</h1></div>
      <img src="{outside}/logo.png" alt=""><img src="file:///etc/hostname" alt="">
      <img src="/nordland/members.csv" alt=""><p>Æ ø å – text</p></body></html>"""
    fetched: list[str] = []
    try:
        with app.test_request_context("/nordland/x", base_url="http://portal.example"):
            pdf = render_pdf(html, fetched=fetched)
    finally:
        server.shutdown()
        server.server_close()
    assert _Counting.hits == []
    assert pdf.startswith(b"%PDF-")
    assert "/static/app.css" in fetched
    assert "/static/vendor/fonts/noto-sans-latin-400-normal.woff" in fetched
    assert not any("members" in path for path in fetched)  # a page of the portal is no file
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Outside" in text


def test_the_fetcher_answers_only_the_portals_own_files(app):
    from portal.reports.pdf import RefusedURL, local_fetcher

    with app.test_request_context("/", base_url="http://portal.example"):
        fetcher = local_fetcher("portal.example")
        assert b"--brand-accent" in fetcher.fetch("http://portal.example/static/app.css").read()
        plugin_css = fetcher.fetch("http://portal.example/plugins/compare/static/compare.css")
        assert plugin_css.content_type == "text/css"
        for refused in (
            "http://elsewhere.example/static/app.css",
            "http://portal.example/static/../../pyproject.toml",
            "http://portal.example/plugins/compare/static/../__init__.py",
            "http://portal.example/nordland/",
            "ftp://portal.example/static/app.css",
        ):
            with pytest.raises((RefusedURL, ValueError)):
                fetcher.fetch(refused)
        assert fetcher.fetch("data:text/plain,hello").read() == b"hello"


def test_weasyprint_leaves_damaged_uploads_refused():
    """WeasyPrint's import lets Pillow accept truncated images process-wide; the portal
    undoes it, or after the first report an upload's damaged image would pass its check."""
    from PIL import ImageFile

    from portal.reports.pdf import load_weasyprint

    load_weasyprint()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
