"""`portal serve` under gunicorn: each request has its own context (nothing leaks between)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import USE_POSTGRES, free_port


@pytest.mark.skipif(USE_POSTGRES, reason="the server test runs once, on its own SQLite file")
def test_requests_do_not_share_state_under_gunicorn(tmp_path, migrated_template):
    import shutil

    db_file = tmp_path / "serve.db"
    shutil.copy(migrated_template, db_file)
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": f"sqlite:///{db_file}",
        "PORTAL_SECRET_KEY": "x" * 32,
    }
    portal = Path(sys.executable).parent / "portal"
    server = subprocess.Popen(
        [str(portal), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def fetch(language: str) -> str:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/login", headers={"Accept-Language": language}
            )
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback http
                return response.read().decode()

        for _ in range(100):
            try:
                fetch("en")
                break
            except OSError:
                time.sleep(0.1)
        assert '<html lang="it">' in fetch("it")
        assert '<html lang="da">' in fetch("da")
        assert '<html lang="en">' in fetch("en")
    finally:
        server.terminate()
        server.wait(timeout=10)
