"""SQLite, the embedded default, while another connection writes for a long time (a large
import's one transaction): with write-ahead logging a page read does not wait for it at all,
and a write that waits longer than ``SQLITE_BUSY_MS`` answers 503 and writes nothing, never
500. Without WAL (the negative control) the read fails once the long write has spilled its
pages to the file.

Each app here has a database file of its own (not the suite's shared copy), opened the way
the portal opens it in production."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.tenancy import unscoped
from tests.conftest import USE_POSTGRES, Factory, _test_config, login

pytestmark = pytest.mark.skipif(
    USE_POSTGRES, reason="SQLite's locking; PostgreSQL: test_write_lock"
)

BUSY_MS = 300


@pytest.fixture
def own_app(migrated_template, tmp_path):
    made = []

    def _make(wal: bool):
        path = tmp_path / f"portal-{'wal' if wal else 'journal'}.db"
        shutil.copy(migrated_template, path)
        config = {**_test_config(f"sqlite:///{path}", tmp_path)}
        config.update({"SQLITE_WAL": wal, "SQLITE_BUSY_MS": BUSY_MS})
        app = create_app(config)
        factory = Factory(app)
        tenant = factory.tenant()
        factory.user("coord@a.example", tenant=tenant, role="coordinator")
        factory.cluster(tenant, "Arctic Minerals")
        made.append(app)
        return app, path

    yield _make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@contextmanager
def long_write(path):
    """Another connection in the middle of a large write: the write lock held, and so many
    pages changed that they no longer fit its cache (as a 62,000-row import's do)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("PRAGMA cache_size=10")
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE bulk (n INTEGER, padding TEXT)")
    other.executemany("INSERT INTO bulk VALUES (?, ?)", ((n, "x" * 200) for n in range(5000)))
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def _clusters(app) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(select(func.count()).select_from(Cluster))


@pytest.mark.parametrize("wal", [True, False])
def test_with_wal_a_page_reads_while_a_long_write_is_open_without_it_fails(own_app, wal):
    """Without WAL (the negative control) the reader waits for the writer and gives up."""
    app, path = own_app(wal=wal)
    client = app.test_client()
    login(client, "coord@a.example")
    with long_write(path):
        page = client.get("/nordland/clusters/")
    if wal:
        assert page.status_code == 200
        assert b"Arctic Minerals" in page.data
    else:
        assert page.status_code == 503  # busy: never a 500
        assert b"The portal is busy" in page.data


@pytest.mark.parametrize("wal", [True, False])
def test_a_write_behind_a_long_write_answers_503_and_writes_nothing(own_app, wal):
    app, path = own_app(wal=wal)
    client = app.test_client()
    login(client, "coord@a.example")
    before = _clusters(app)
    with long_write(path):
        page = client.post("/nordland/clusters/new", data={"name": "Polar Life Science"})
        fragment = client.post(
            "/nordland/clusters/new",
            data={"name": "Polar Life Science"},
            headers={"HX-Request": "true"},
        )
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert b"The portal is busy" in page.data and b"nothing was saved" in page.data
    assert fragment.status_code == 503 and b"The portal is busy" in fragment.data
    assert _clusters(app) == before
    # Once the other write has ended, the same form saves.
    saved = client.post("/nordland/clusters/new", data={"name": "Polar Life Science"})
    assert saved.status_code == 302
    assert _clusters(app) == before + 1


def test_the_busy_page_speaks_the_readers_language(own_app):
    app, path = own_app(wal=True)
    client = app.test_client()
    login(client, "coord@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    with long_write(path):
        page = client.post("/nordland/clusters/new", data={"name": "Polar Life Science"})
    assert page.status_code == 503
    assert '<html lang="nb">' in page.get_data(as_text=True)
    assert b"The portal is busy" not in page.data
