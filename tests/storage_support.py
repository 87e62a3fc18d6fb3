"""A real S3-compatible server for the storage tests: moto's server (``moto_server``) in its own
process, on a free port, speaking S3 over HTTP, with a bucket made through boto3.

Without ``moto_server`` installed the S3 cases are skipped, except in CI (``CI=true``), where
they fail. Each test gets its own key prefix in the session's bucket, so its objects can be
listed and counted alone.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

BUCKET = "portal-test"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "portal-test-key",
    "AWS_SECRET_ACCESS_KEY": "portal-test-secret",
    "AWS_DEFAULT_REGION": "eu-north-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _executable() -> str | None:
    beside = Path(sys.executable).parent / "moto_server"
    return str(beside) if beside.exists() else shutil.which("moto_server")


@dataclass
class S3Server:
    """One moto_server process; ``stop()`` ends it (the backend-failure tests do)."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="eu-north-1")


def start_s3_server(log_dir: Path) -> S3Server:
    executable = _executable()
    if executable is None:
        message = "moto_server is not installed (pip install -e '.[test]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    for name, value in CREDENTIALS.items():
        os.environ.setdefault(name, value)
    port = _free_port()
    log = log_dir / f"moto-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own test server
            [executable, "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = S3Server(process, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    pytest.fail(f"moto_server did not start on port {port}: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session", name="s3_server")
def s3_server_fixture(tmp_path_factory):
    """The session's S3 server with its bucket."""
    server = start_s3_server(tmp_path_factory.mktemp("s3"))
    try:
        server.client().create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
        )
        yield server
    finally:
        server.stop()


def s3_config(server: S3Server, **extra) -> dict:
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": server.url,
        "S3_REGION": "eu-north-1",
        "S3_ADDRESSING_STYLE": "path",
        "S3_PREFIX": f"test-{secrets.token_hex(6)}",
        "S3_TIMEOUT": 2,
        **extra,
    }


# The storage layer touches no database: its S3 cases run in the SQLite run (the README's
# test command); CI's second run, on PostgreSQL, keeps the local folder, as files there
# still meet the database (rows, deletes, history).
ON_POSTGRES = os.environ.get("PORTAL_DATABASE_URL", "").startswith("postgresql")
BACKENDS = ["local"] if ON_POSTGRES else ["local", "s3"]


@pytest.fixture(params=BACKENDS, name="backend")
def backend_fixture(request, tmp_path) -> dict:
    """The storage configuration of a test that runs against both backends."""
    if request.param == "local":
        return {"STORAGE_BACKEND": "local", "UPLOAD_DIR": str(tmp_path / "uploads")}
    return s3_config(request.getfixturevalue("s3_server"))


def stored_keys(app) -> list[str]:
    """Every key in the app's storage (for an S3 prefix: this test's objects only)."""
    from portal.files.storage import storage

    with app.app_context():
        return sorted(storage().iter_keys())


def read_object(app, key: str) -> bytes:
    from portal.files.storage import storage

    with app.app_context(), storage().open(key) as handle:
        return handle.read()
