"""The benchmark harness end to end at smoke scale, so it cannot rot: a tiny region on SQLite,
gunicorn, wrk for a second per page, and its JSON, Markdown and chart. (The full benchmark is not
part of the test suite: ``python -m bench``.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import USE_POSTGRES

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"

pytestmark = [
    pytest.mark.skipif(USE_POSTGRES, reason="the smoke run makes its own SQLite database; once"),
    pytest.mark.skipif(
        shutil.which("wrk") is None and not IN_CI,
        reason="wrk is not installed (apt-get install -y wrk)",
    ),
]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    files = {p.suffix: p for p in out.iterdir()}
    assert set(files) == {".json", ".md", ".svg"}, files
    return json.loads(files[".json"].read_text()), files, done.stdout


def test_every_page_is_measured(smoke):
    from bench.pages import HELLO, PAGES

    result, _files, _stdout = smoke
    assert result["ok"] is True
    assert result["settings"]["smoke"] is True
    (scale,) = result["scales"]
    assert scale["clusters"] == 5
    pages = {p["key"]: p for p in scale["pages"]}
    assert set(pages) == {p.key for p in PAGES}
    for key, page in pages.items():
        assert page["status"] == "ok", (key, page.get("notes"))
        assert page["rps"] > 0, key
        assert page["p50_ms"] > 0 and page["p99_ms"] >= page["p50_ms"], key
        assert page["peak_mb"] > 0, key
        assert len(page["runs"]) == 1 and page["runs"][0]["wrk"]["unexpected_status"] == 0
        if key != HELLO:
            # /hello reads nothing; every page reads the database.
            assert page["queries"] > 0, key
            assert page["ratio"] > 0, key
    assert pages["scorecard_etag"]["expected_status"] == 304
    assert pages["scorecard_etag"]["in_process"]["status"] == 304
    assert pages[HELLO]["ratio"] == 1.0


def test_machine_settings_and_outputs(smoke):
    result, files, stdout = smoke
    assert result["machine"]["cores"] and result["machine"]["cpu"]
    assert stdout.startswith("Machine: ")
    assert "Settings: db=sqlite" in stdout
    region = result["scales"][0]["region"]
    assert region["rows"]["plan_action"] == 100 and region["rows"]["indicator_value"] > 0
    table = files[".md"].read_text()
    for page in result["scales"][0]["pages"]:
        assert f"| {page['title']} |" in table
    assert files[".svg"].read_text().startswith("<svg ")


def test_scaling_table_from_two_results(smoke):
    """The scaling comparison (normally 50 vs 500 clusters), fed the smoke result twice."""
    from bench import report

    result, _files, _stdout = smoke
    small = result["scales"][0]
    large = {**small, "clusters": 50}
    rows = report.scaling(small, large)
    assert {r["key"] for r in rows} == {p["key"] for p in small["pages"]}
    assert all(r["growth"] == 1.0 and r["same_queries"] for r in rows)
    both = {**result, "scales": [small, large], "scaling": rows}
    text = report.markdown(both)
    assert "## Scaling: 5 vs 50 clusters" in text
    assert report.svg(both).count("<rect") > len(rows)
