"""Writing a checked rounds file: every round or none, and on SQLite (one writer for the whole
file) the other writers are not held up while the import prepares its rows: they wait for
the copy into place only (portal.benchmarking.round_staging.write_staged)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, func, select, update

from portal.benchmarking import round_import
from portal.benchmarking.models import BenchmarkRound, IndicatorValue, RoundKind
from portal.extensions import db
from portal.imports.models import PendingImport
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import USE_POSTGRES, login
from tests.test_round_import import (  # noqa: F401 - esca, the fixture
    GOOD,
    _check_good,
    _counts,
    _csv,
    _row,
    _upload,
    esca,
)


def _checked(tenant_id, content: bytes) -> round_import.ImportOutcome:
    outcome = round_import.check_file(None, tenant_id, content)
    assert not outcome.errors, outcome.errors
    return outcome


def _another_writer_gets_in(path: str) -> bool:
    """Whether another connection could start writing right now, without waiting."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


@pytest.mark.skipif(USE_POSTGRES, reason="SQLite's one writer; PostgreSQL: test_write_lock")
@pytest.mark.parametrize("how", ["confirmed on the web", "command line"])
def test_other_writers_get_in_while_the_rows_are_prepared_and_wait_only_for_the_copy(
    app,
    client,
    esca,  # noqa: F811
    monkeypatch,
    how,
):
    """At each prepared chunk another writer gets in without waiting; at the copy into place
    the lock is held (so the check can fail: it did with the rounds written chunk by chunk,
    and with the web's claim taken before the preparing)."""
    with app.app_context():
        path = db.engine.url.database
    rows = [
        _row(cluster=cluster, day=f"2025-03-{day:02d}", indicator=indicator, value="3")
        for cluster in ("Arctic Minerals", "Helgeland Health")
        for day in range(1, 29)
        for indicator in ("engagement", "concentration")
    ]
    seen_while_preparing: list[bool] = []
    seen_at_the_copy: list[bool] = []

    def look(_conn, _cursor, statement, *_rest) -> None:
        if statement.startswith("INSERT INTO import_round_row"):
            seen_while_preparing.append(_another_writer_gets_in(path))
        elif statement.startswith("INSERT INTO indicator_value"):
            seen_at_the_copy.append(_another_writer_gets_in(path))

    monkeypatch.setattr(round_import, "CHUNK", 10)  # 56 rounds: six chunks
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", look)
    try:
        if how == "command line":
            with app.test_request_context(), tenant_scope(esca["a"].id):
                outcome = _checked(esca["a"].id, _csv(rows))
                round_import.write(None, esca["a"].id, outcome)
                assert outcome.written, outcome.errors
        else:
            login(client, "coord@a.example")
            assert _upload(client, _csv(rows)).status_code == 302
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", look)
    assert seen_while_preparing == [True] * 6
    assert seen_at_the_copy == [False]
    assert _counts(app) == (56, 112)


def test_a_round_entered_meanwhile_stops_the_writing_and_nothing_is_written(
    app,
    esca,  # noqa: F811
):
    """Between the check and the writing someone enters one of the file's rounds: the
    writing stops, says why, and no round or value of the file is left; the same
    connection then imports the file again once that round is gone."""
    tenant_id, cluster_id = esca["a"].id, esca["c2"].id
    with app.test_request_context(), tenant_scope(tenant_id):
        outcome = _checked(tenant_id, _csv(GOOD))
        clash = BenchmarkRound(
            tenant_id=tenant_id,
            cluster_id=cluster_id,
            held_on=outcome.rounds[-1].held_on,
            indicator_set="esca-gold",
            set_version="2013",
            kind=RoundKind.BENCHMARKING,
            assessor="Someone else",
        )
        db.session.add(clash)
        db.session.commit()
        clash_id = clash.id
        round_import.write(None, tenant_id, outcome)
        assert not outcome.written
        assert len(outcome.errors) == 1
        message = outcome.errors[0].message
        assert "someone entered one of the rounds at the same time" in message
        assert "nothing was written" in message
    assert _counts(app) == (1, 0)
    with app.test_request_context(), tenant_scope(tenant_id):
        db.session.delete(db.session.get(BenchmarkRound, clash_id))
        db.session.commit()
        again = _checked(tenant_id, _csv(GOOD))
        round_import.write(None, tenant_id, again)
        assert again.written, again.errors
    _check_good(app, esca)


def test_the_written_rounds_are_the_events_rounds_in_the_files_order(
    app,
    esca,  # noqa: F811
    monkeypatch,
):
    """The ids the writing returns (what ``round_saved`` is told) are the new rounds', with
    their values, whichever path wrote them."""
    told: list[tuple[int, int]] = []
    monkeypatch.setattr(
        round_import,
        "emit",
        lambda _name, _tenant, *, round, **_kw: told.append((round.cluster_id, len(round.values))),
    )
    with app.test_request_context(), tenant_scope(esca["a"].id):
        outcome = _checked(esca["a"].id, _csv(GOOD))
        round_import.write(None, esca["a"].id, outcome)
    assert outcome.written
    c1, c2 = esca["c1"].id, esca["c2"].id
    assert sorted(told) == sorted([(c1, 3), (c1, 1), (c2, 1)])
    with app.app_context(), unscoped():
        per_round = dict(
            db.session.execute(
                select(IndicatorValue.round_id, func.count()).group_by(IndicatorValue.round_id)
            ).all()
        )
    assert sorted(per_round.values()) == [1, 1, 3]


def test_a_confirm_that_loses_the_claim_while_preparing_writes_nothing(
    app,
    client,
    esca,  # noqa: F811
    monkeypatch,
):
    """The rounds writer claims the pending import late (after preparing its rows on
    SQLite): another confirm that took it meanwhile wins, and this one writes nothing and
    says the import was confirmed already."""
    from portal.imports import service
    from tests.import_support import check, confirm, token_of

    login(client, "coord@a.example")
    token = token_of(check(client, "/nordland/rounds/import", _csv(GOOD), "rounds.csv"))
    real_claim = service._claim

    def taken_meanwhile(pending_id: int) -> bool:
        with db.engine.begin() as other:  # the other confirm, committed first
            other.execute(
                update(PendingImport)
                .where(PendingImport.id == pending_id)
                .values(confirmed_at=func.now())
            )
        return real_claim(pending_id)

    monkeypatch.setattr(service, "_claim", taken_meanwhile)
    answer = confirm(client, "/nordland/rounds/import/confirm", token)
    assert answer.status_code in (200, 409, 410)
    assert "confirmed already" in answer.get_data(as_text=True)
    assert _counts(app) == (0, 0)
