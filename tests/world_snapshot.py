"""The ``world`` fixture's database, built once and put back for every test that asks for it.

Building it (two regions, two clusters, six people through the services) was a fifth of a
typical test's time. The first test of a run that asks for it builds it through the services;
its rows are then kept (SQLite: a copy of the file; PostgreSQL: every row and sequence), and
each later test gets them back in one step, with the same ids and the same records.

A kept world is used only when it would be built the same way: for the same day, plugins and
settings (``key``), and only on a database still as the migrations left it (a fixture that
wrote before ``world`` gets a world built for it). Test-only, as :mod:`tests.routing_cache`.
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import MetaData, insert, select, text

# Settings that differ from test to test without changing what the world holds.
PER_TEST_SETTINGS = {"UPLOAD_DIR", "S3_PREFIX", "SQLALCHEMY_DATABASE_URI"}
MAX_KEPT = 8


@dataclass
class KeptWorld:
    result: dict
    sqlite_file: Path | None = None
    rows: list | None = None  # PostgreSQL: (table, rows) in dependency order
    sequences: list | None = None  # PostgreSQL: (name, last value)


_kept: dict[tuple, KeptWorld] = {}


def key(app) -> tuple:
    settings = tuple(
        (name, repr(value))
        for name, value in sorted(app.config.items())
        if name not in PER_TEST_SETTINGS and isinstance(value, str | int | float | bool | None)
    )
    plugins = tuple(sorted(app.extensions["portal_plugins"].plugins))
    return (date.today(), plugins, settings)


def file_stamp(path: Path) -> tuple[int, bytes]:
    """A SQLite file's size and its header's change counter, which every committed write
    moves (rollback-journal mode, the portal's)."""
    with path.open("rb") as database:
        header = database.read(28)
    return path.stat().st_size, header[24:28]


def postgres_is_empty(engine) -> bool:
    """Whether every table is empty, as ``conftest._empty_postgres`` leaves them."""
    with engine.connect() as conn:
        names = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename NOT LIKE 'alembic_version%'"
            )
        ).scalars()
        # Names from the catalogue, quoted.
        counts = " + ".join(f'(SELECT count(*) FROM "{name}")' for name in names)  # noqa: S608
        return conn.execute(text(f"SELECT {counts}")).scalar_one() == 0  # noqa: S608


def _tables(conn) -> list:
    metadata = MetaData()
    metadata.reflect(conn)
    return [t for t in metadata.sorted_tables if not t.name.startswith("alembic_version")]


def restore(engine, found: KeptWorld, sqlite_path: Path | None) -> dict:
    engine.dispose()
    if found.sqlite_file is not None:
        fresh = sqlite_path.with_suffix(".world")
        shutil.copy(found.sqlite_file, fresh)
        fresh.replace(sqlite_path)
    else:
        with engine.begin() as conn:
            for table, rows in found.rows:
                conn.execute(insert(table), rows)
            for name, value in found.sequences:
                conn.execute(text("SELECT setval(:name, :value)"), {"name": name, "value": value})
    return copy.deepcopy(found.result)


def keep(engine, world_key: tuple, result: dict, sqlite_path: Path | None, folder: Path) -> None:
    if len(_kept) >= MAX_KEPT:
        return
    engine.dispose()
    found = KeptWorld(result=copy.deepcopy(result))
    if sqlite_path is not None:
        found.sqlite_file = folder / f"world-{len(_kept)}.db"
        shutil.copy(sqlite_path, found.sqlite_file)
    else:
        with engine.connect() as conn:
            found.rows = []
            for table in _tables(conn):
                columns = [c for c in table.columns if c.computed is None]
                rows = [dict(r) for r in conn.execute(select(*columns)).mappings()]
                if rows:
                    found.rows.append((table, rows))
            found.sequences = [
                (name, value)
                for name, value in conn.execute(
                    text(
                        "SELECT sequencename, last_value FROM pg_sequences "
                        "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
                    )
                )
            ]
    _kept[world_key] = found


def kept(world_key: tuple) -> KeptWorld | None:
    return _kept.get(world_key)
