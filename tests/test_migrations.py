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


# --- data kept by the migrations ---------------------------------------------------------------


def _insert(conn, table: str, **values):
    """A row with ``values``; every other NOT NULL column without a default gets a plain value
    of its type (the schema as migrated so far, read from the database)."""
    from datetime import UTC, date, datetime

    from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Table

    found = Table(table, MetaData(), autoload_with=conn)
    row = dict(values)
    for column in found.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.primary_key:
            continue
        kind = column.type
        if isinstance(kind, Boolean):
            row[column.name] = False
        elif isinstance(kind, DateTime):
            row[column.name] = datetime(2025, 1, 1, tzinfo=UTC)
        elif isinstance(kind, Date):
            row[column.name] = date(2025, 1, 1)
        elif isinstance(kind, Integer):
            row[column.name] = 0
        elif type(kind).__name__ == "JSON":
            row[column.name] = {}
        else:
            row[column.name] = ""
    return conn.execute(found.insert().values(**row)).inserted_primary_key[0]


def test_rounds_and_evidence_keep_their_facts_through_the_round_kinds(empty_database, tmp_path):
    """Existing rounds become confirmed benchmarkings (audits stay audits) entered by whom
    the audit log names, in their role; evidence keeps its day and gains its recorder's role;
    down and up again keeps the audit marks."""
    from datetime import date

    from alembic import command

    app = create_app(_test_config(empty_database, tmp_path))
    with app.app_context():
        core = migrations_runner.targets(app)[0].config
        command.upgrade(core, "7d3a9c51e2b8")  # the revision before the round kinds
        with db.engine.begin() as conn:
            tenant = _insert(conn, "tenant", slug="nordland", name="Nordland")
            expert = _insert(conn, "user_account", email="e@x.example", name="Expert")
            _insert(conn, "membership", tenant_id=tenant, user_id=expert, role="assessor")
            cluster = _insert(conn, "cluster", tenant_id=tenant, name="Arctic")
            common = {"tenant_id": tenant, "cluster_id": cluster, "indicator_set": "esca-gold"}
            bench = _insert(
                conn,
                "benchmark_round",
                held_on=date(2024, 3, 1),
                audit=False,
                set_version="2013",
                **common,
            )
            audit = _insert(
                conn,
                "benchmark_round",
                held_on=date(2025, 3, 1),
                audit=True,
                set_version="2013",
                **common,
            )
            _insert(
                conn,
                "audit_entry",
                tenant_id=tenant,
                user_id=expert,
                action="create",
                object_type="benchmark_round",
                object_id=bench,
            )
            _insert(
                conn,
                "label_evidence",
                tenant_id=tenant,
                cluster_id=cluster,
                scheme="esca",
                kind="expert_review",
                recorded_on=date(2025, 4, 1),
                recorded_by_id=expert,
            )
        command.upgrade(core, "head")
        with db.engine.connect() as conn:
            rounds = conn.execute(
                text(
                    "SELECT id, kind, entered_by_id, entered_role, confirmed_at IS NOT NULL,"
                    " revision FROM benchmark_round ORDER BY id"
                )
            ).all()
            evidence = conn.execute(
                text("SELECT recorded_on, recorded_role FROM label_evidence")
            ).one()
        assert [tuple(r) for r in rounds] == [
            (bench, "benchmarking", expert, "assessor", True, 1),
            (audit, "audit", None, "", True, 1),
        ]
        assert str(evidence[0]) == "2025-04-01" and evidence[1] == "assessor"
        command.downgrade(core, "7d3a9c51e2b8")
        with db.engine.connect() as conn:
            marks = conn.execute(text("SELECT audit FROM benchmark_round ORDER BY id")).scalars()
            assert [bool(m) for m in marks] == [False, True]
        command.upgrade(core, "head")
        with db.engine.connect() as conn:
            kinds = conn.execute(text("SELECT kind FROM benchmark_round ORDER BY id")).scalars()
            assert list(kinds) == ["benchmarking", "audit"]


def test_comparison_settings_move_into_the_core_and_back(empty_database, tmp_path):
    from alembic import command

    app = create_app(_test_config(empty_database, tmp_path))
    with app.app_context():
        targets = {t.name: t.config for t in migrations_runner.targets(app)}
        if "compare" not in targets:
            pytest.skip("the compare plugin is not installed")
        command.upgrade(targets["core"], "head")
        command.upgrade(targets["compare"], "3cb3dfc25a01")  # before the move
        with db.engine.begin() as conn:
            tenant = _insert(conn, "tenant", slug="nordland", name="Nordland")
            _insert(conn, "tenant", slug="other", name="Other")
            _insert(conn, "compare_settings", tenant_id=tenant, min_group=7, show_names=True)
        command.upgrade(targets["compare"], "head")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT slug, values_min_group, values_names_shown FROM tenant ORDER BY slug")
            ).all()
        assert [(slug, group, bool(names)) for slug, group, names in rows] == [
            ("nordland", 7, True),
            ("other", 5, False),  # no settings: the defaults
        ]
        assert "compare_settings" not in inspect(db.engine).get_table_names()
        command.downgrade(targets["compare"], "3cb3dfc25a01")
        with db.engine.connect() as conn:
            kept = conn.execute(
                text("SELECT min_group, show_names FROM compare_settings WHERE tenant_id = :t"),
                {"t": tenant},
            ).one()
        assert (kept[0], bool(kept[1])) == (7, True)


SURVIVORS = (
    "tenant",
    "user_account",
    "membership",
    "cluster",
    "member_organisation",
    "benchmark_round",
    "indicator_value",
    "label",
    "label_evidence",
)


def test_every_migration_keeps_the_rows_of_the_tables_it_touches(empty_database, tmp_path):
    """Rows in place (parents and their children) survive every core migration up to the
    newest, down again and up again. On SQLite a table a migration rebuilds used to take its
    children with it (the rebuild drops the old table, and foreign keys cascade)."""
    from datetime import date

    from alembic import command

    app = create_app(_test_config(empty_database, tmp_path))
    with app.app_context():
        core = migrations_runner.targets(app)[0].config
        start = "6c1d2e9a7b40"  # the newest revision before 2026-12-06
        command.upgrade(core, start)
        with db.engine.begin() as conn:
            tenant = _insert(conn, "tenant", slug="nordland", name="Nordland")
            user = _insert(conn, "user_account", email="u@x.example", name="U")
            _insert(conn, "membership", tenant_id=tenant, user_id=user, role="coordinator")
            cluster = _insert(conn, "cluster", tenant_id=tenant, name="Arctic")
            _insert(
                conn,
                "member_organisation",
                tenant_id=tenant,
                cluster_id=cluster,
                name="Nord universitet",
                member_type="university",
            )
            bench = _insert(
                conn,
                "benchmark_round",
                tenant_id=tenant,
                cluster_id=cluster,
                held_on=date(2025, 1, 1),
                indicator_set="esca-gold",
                set_version="2013",
                audit=False,
            )
            _insert(
                conn,
                "indicator_value",
                tenant_id=tenant,
                round_id=bench,
                indicator_id="engagement",
                value=3.0,
                light="yellow",
            )
            _insert(
                conn,
                "label",
                tenant_id=tenant,
                cluster_id=cluster,
                scheme="esca",
                scheme_version="2013",
                level="bronze",
                awarded_on=date(2025, 2, 1),
                expires_on=date(2027, 1, 31),
            )
            _insert(
                conn,
                "label_evidence",
                tenant_id=tenant,
                cluster_id=cluster,
                scheme="esca",
                kind="improvement",
                recorded_on=date(2025, 3, 1),
            )

        def counts():
            with db.engine.connect() as conn:
                return {
                    t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()  # noqa: S608
                    for t in SURVIVORS
                }

        every_one = dict.fromkeys(SURVIVORS, 1)
        assert counts() == every_one
        command.upgrade(core, "head")
        assert counts() == every_one
        command.downgrade(core, start)
        assert counts() == every_one
        command.upgrade(core, "head")
        assert counts() == every_one
