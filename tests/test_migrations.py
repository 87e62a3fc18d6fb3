"""Migrations: one head per history; upgrade, downgrade, upgrade; models match."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from portal import create_app, migrations_runner
from portal.extensions import db
from tests.conftest import DATABASE_URL, USE_POSTGRES, _test_config


@pytest.fixture
def empty_database(tmp_path):
    """A database of its own (the suite's PostgreSQL server, or a SQLite file)."""
    if not USE_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"portal_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        make_url(DATABASE_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_every_history_has_one_head(app):
    with app.app_context():
        heads = migrations_runner.heads(app)
    assert set(heads) >= {"core", "cluster_facts"}
    assert all(len(revisions) == 1 for revisions in heads.values()), heads


def test_upgrade_downgrade_upgrade_and_models_match(empty_database, tmp_path):
    app = create_app(_test_config(empty_database, tmp_path))
    with app.app_context():
        migrations_runner.upgrade_all(app)
        assert migrations_runner.differences() == []
        tables = set(inspect(db.engine).get_table_names())
        assert {
            "tenant",
            "cluster",
            "facts_key_figure",
            "alembic_version",
            "alembic_version_cluster_facts",
        } <= tables
        migrations_runner.downgrade_all(app)
        left = {
            t for t in inspect(db.engine).get_table_names() if not t.startswith("alembic_version")
        }
        assert left == set()
        migrations_runner.upgrade_all(app)
        assert migrations_runner.differences() == []
        db.engine.dispose()


def test_migration_files_are_named_by_date():
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    files = list((root / "migrations" / "versions").glob("*.py")) + list(
        root.glob("plugins/*/migrations/versions/*.py")
    )
    assert files
    for path in files:
        assert re.match(r"^\d{4}_\d{2}_\d{2}_\d{4}_[a-z0-9_]+\.py$", path.name), path.name
