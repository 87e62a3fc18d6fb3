"""The benchmark harness end to end at smoke scale, so it cannot rot: a tiny region on SQLite,
gunicorn sharing its page cache through Redis, each page in one pair of 1-second slices
alternating with /hello while several signed-in users write (the harness's every part: the
reads of a quiet run are the same), and its JSON, Markdown and chart. No timing is asserted.
(The full benchmark is not part of the test suite: ``python -m bench``.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import USE_POSTGRES
from tests.redis_support import REDIS_URL, needs_redis

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI") == "true"

pytestmark = [
    pytest.mark.skipif(USE_POSTGRES, reason="the smoke run makes its own SQLite database; once"),
    pytest.mark.skipif(
        shutil.which("wrk") is None and not IN_CI,
        reason="wrk is not installed (apt-get install -y wrk)",
    ),
    needs_redis,  # the server shares its page cache through Redis, as on several hosts
]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--writes", "20", "--users", "3"]
        + ["--redis", REDIS_URL, "--out", str(out)],
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
    assert [m["writes_percent"] for m in scale["mixes"]] == [20]
    for mix in scale["mixes"]:
        pages = {p["key"]: p for p in mix["pages"]}
        assert set(pages) == {p.key for p in PAGES}
        for key, page in pages.items():
            assert page["status"] == "ok", (key, page.get("notes"))
            assert page["rps"] > 0 and page["slices"], key
            assert page["p95_ms"] >= page["p50_ms"] > 0, key
            assert all(not s["problems"] for s in page["slices"]), key
            if key != HELLO:
                # /hello reads nothing; every page reads the database.
                assert page["queries"] > 0, key
                assert page["ratio_min"] <= page["ratio"] <= page["ratio_max"], key
                assert page["first_visit_ms"] > 0 and page["peak_mb"] > 0, key
                assert page["first_render_ms"] > 0, key
        assert pages["scorecard_etag"]["expected_status"] == 304
        assert pages["scorecard_etag"]["in_process"]["status"] == 304
        assert pages[HELLO]["ratio"] == 1.0


def test_writes_by_several_users(smoke):
    """The write mix ran through the real forms and API, as several users, without errors."""
    result, _files, _stdout = smoke
    (busy,) = result["scales"][0]["mixes"]
    writes = busy["writes"]
    assert writes["users"] >= 2 and writes["writes"] > 0 and not writes["problems"]
    for kind, seen in writes["kinds"].items():
        assert all(int(status) < 500 for status in seen["statuses"]), (kind, seen)
    assert "form_edit" in writes["kinds"]
    assert set(writes["kinds"]["form_edit"]["statuses"]) <= {"200", "409"}


def test_machine_settings_and_outputs(smoke):
    result, files, stdout = smoke
    assert result["machine"]["cores"] and result["machine"]["cpu"]
    assert stdout.startswith("Machine: ")
    assert "Settings: db=sqlite" in stdout
    assert result["settings"]["redis"] == REDIS_URL
    region = result["scales"][0]["region"]
    assert region["rows"]["plan_action"] == 100 and region["rows"]["indicator_value"] > 0
    table = files[".md"].read_text()
    for page in result["scales"][0]["pages"]:
        assert f"| {page['title']} |" in table
    assert "## 5 clusters" in table and "20 % writes" in table
    assert "## Targets of issue 18" in table and "Targets (issue 18):" in stdout
    assert "Page cache on, shared through Redis." in table
    assert files[".svg"].read_text().startswith("<svg ")


def test_scaling_table_from_two_results(smoke):
    """The scaling comparison (normally 50 vs 500 clusters), fed the smoke result twice."""
    from bench import report

    result, _files, _stdout = smoke
    small = result["scales"][0]
    large = {**small, "clusters": 50}
    rows = report.scaling(small, large)
    assert {r["key"] for r in rows} == {p["key"] for p in small["pages"]}
    assert all(r["growth"] in (1.0, None) and r["same_queries"] for r in rows)
    both = {**result, "scales": [small, large], "scaling": rows}
    text = report.markdown(both)
    assert "## Scaling: 5 vs 50 clusters" in text
    assert report.svg(both).count("<rect") > len(rows)
