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


@pytest.mark.skipif(USE_POSTGRES, reason="the server test runs once, on its own SQLite file")
def test_two_servers_keep_their_own_control_sockets(tmp_path, migrated_template):
    """Each `portal serve` has its own gunicorn control socket (one per instance folder and
    address), so a second server on the machine leaves the first one's alone."""
    import shutil

    pytest.importorskip("gunicorn")
    db_file = tmp_path / "serve.db"
    shutil.copy(migrated_template, db_file)
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": f"sqlite:///{db_file}",
        "PORTAL_SECRET_KEY": "x" * 32,
        "HOME": str(tmp_path),  # gunicorn's default socket would be under ~/.gunicorn
    }
    portal = Path(sys.executable).parent / "portal"
    ports = [free_port(), free_port()]
    servers = [
        subprocess.Popen(
            [str(portal), "serve", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            for _ in range(100):
                try:
                    with urllib.request.urlopen(  # noqa: S310 - loopback http
                        f"http://127.0.0.1:{port}/login", timeout=5
                    ):
                        break
                except OSError:
                    time.sleep(0.1)
        from types import SimpleNamespace

        from flask import Flask

        from portal.cli.serve import control_socket_path

        instance = SimpleNamespace(instance_path=Flask("portal").instance_path)
        sockets = {control_socket_path(instance, "127.0.0.1", port) for port in ports}
        for _ in range(100):  # gunicorn opens it once its worker has booted
            if all(os.path.exists(path) for path in sockets):
                break
            time.sleep(0.1)
        assert len(sockets) == 2 and all(os.path.exists(path) for path in sockets)
        assert not (tmp_path / ".gunicorn").exists()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
