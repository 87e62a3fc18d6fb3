"""Writing an import's rounds: the rows both ways of writing insert (:func:`round_rows`), and
on SQLite the way that keeps other writers waiting for the copy only (:func:`write_staged`).
Used by :mod:`portal.benchmarking.round_import`."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, MetaData, Table, Text, insert, select
from sqlalchemy.schema import CreateTable

from portal.accounts.models import User
from portal.benchmarking.models import BenchmarkRound, RoundKind
from portal.benchmarking.round_checks import PlannedRound
from portal.benchmarking.services import role_name
from portal.db import utcnow
from portal.extensions import db
from portal.imports.service import take_claim


def write_staged(
    user: User | None, tenant_id: int, rounds: list[PlannedRound], written, bar, chunk_size: int
) -> list[int]:
    """SQLite has one writer for the whole file: every other write, of any region, waits
    while an import's transaction holds it. So the rounds and their values (62,000 rows for
    a round of 2,000 clusters) are first put in temporary tables, which are the connection's
    own and lock nobody, and then copied into place by INSERT ... SELECT inside SQLite, in
    the same transaction: still every row or none, but the lock is held for the copies
    only (about 0.1 s at that size instead of the whole writing)."""
    connection = db.session.connection()
    for table in (_STAGED_ROUNDS, _STAGED_VALUES):
        connection.execute(CreateTable(table, if_not_exists=True))
        connection.execute(table.delete())
    for start in range(0, len(rounds), chunk_size):
        chunk = rounds[start : start + chunk_size]
        connection.execute(
            _STAGED_ROUNDS.insert(),
            [
                {"position": position, **row}
                for position, row in enumerate(round_rows(user, tenant_id, chunk), start)
            ],
        )
        staged = [
            (position, indicator_id, float(v.value), v.light, v.comment)
            for position, planned in enumerate(chunk, start)
            for indicator_id, v in planned.values.items()
        ]
        if staged:
            connection.exec_driver_sql(
                "INSERT INTO import_round_value (position, indicator_id, value, light, comment) "
                "VALUES (?, ?, ?, ?, ?)",
                staged,
            )
        written.n += len(chunk)  # how far the writing got, should it fail
        if bar is not None:
            bar.update(len(chunk))
    # The writer lock is taken here, by the claim of a confirm or else by the first copy, and
    # held to the commit.
    take_claim()
    columns = [c.name for c in _ROUND_COLUMNS]
    connection.execute(
        insert(BenchmarkRound.__table__).from_select(
            columns,
            select(*(_STAGED_ROUNDS.c[name] for name in columns)).order_by(
                _STAGED_ROUNDS.c.position
            ),
        )
    )
    round_table = BenchmarkRound.__table__
    connection.execute(
        _STAGED_ROUNDS.update().values(
            round_id=select(round_table.c.id)
            .where(*(round_table.c[key] == _STAGED_ROUNDS.c[key] for key in _ROUND_KEY))
            .scalar_subquery()
        )
    )
    connection.exec_driver_sql(
        "INSERT INTO indicator_value (tenant_id, round_id, indicator_id, value, light, comment) "
        "SELECT ?, r.round_id, v.indicator_id, v.value, v.light, v.comment "
        "FROM import_round_value v JOIN import_round_row r ON r.position = v.position "
        "ORDER BY v.rowid",
        (tenant_id,),
    )
    ids = list(
        connection.scalars(select(_STAGED_ROUNDS.c.round_id).order_by(_STAGED_ROUNDS.c.position))
    )
    for table in (_STAGED_ROUNDS, _STAGED_VALUES):
        connection.execute(table.delete())
    return ids


# The staging tables of :func:`write_staged` (SQLite only; TEMPORARY: each connection's own).
_ROUND_COLUMNS = [c for c in BenchmarkRound.__table__.c if c.name != "id"]
_ROUND_KEY = ("tenant_id", "cluster_id", "indicator_set", "set_version", "held_on", "kind")
_staging = MetaData()
_STAGED_ROUNDS = Table(
    "import_round_row",
    _staging,
    Column("position", Integer, primary_key=True),
    Column("round_id", Integer),
    *(Column(c.name, c.type) for c in _ROUND_COLUMNS),
    prefixes=["TEMPORARY"],
)
_STAGED_VALUES = Table(
    "import_round_value",
    _staging,
    Column("position", Integer),
    Column("indicator_id", Text),
    Column("value", Float),
    Column("light", Text),
    Column("comment", Text),
    prefixes=["TEMPORARY"],
)


def round_rows(user: User | None, tenant_id: int, chunk: list[PlannedRound]) -> list[dict]:
    role, now = role_name(user, tenant_id), utcnow()
    user_id = user.id if user is not None else None
    return [
        {
            "tenant_id": tenant_id,
            "cluster_id": planned.cluster_id,
            "held_on": planned.held_on,
            "indicator_set": planned.indicator_set.id,
            "set_version": planned.indicator_set.version,
            "assessor": planned.assessor,
            "kind": RoundKind.AUDIT if planned.audit else RoundKind.BENCHMARKING,
            "notes": planned.notes,
            "entered_by_id": user_id,
            "entered_role": role,
            "confirmed_at": now,
            "confirmed_by_id": user_id,
            "version": 1,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
        for planned in chunk
    ]
