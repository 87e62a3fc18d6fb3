"""Commands that use the database, on one that was never migrated: one line telling to run
``portal db upgrade`` and a non-zero exit code, not a traceback."""

from __future__ import annotations

import pytest
from alembic import command
from flask_babel import force_locale
from sqlalchemy import inspect

from portal import create_app, migrations_runner
from portal.extensions import db
from tests.conftest import _test_config

COMMANDS = [
    ["plugins", "list"],
    ["plugins", "list", "--json"],
    ["tenant", "create", "nordland", "Nordland Forum"],
    ["user", "create", "a@b.example", "--name", "A", "--password", "pw-pw-pw-pw-pw"],
    ["user", "invite", "nordland", "a@b.example", "--role", "member"],
    ["labels", "check", "nordland", "Arctic Minerals", "--scheme", "esca"],
    ["send-reminders"],
    ["send-reminders", "--dry-run"],
    ["rounds", "import", "nordland", "{file}"],
    ["serve"],
]


@pytest.fixture
def empty_app(tmp_path):
    """The portal on a new, empty SQLite database (whatever database the suite uses)."""
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'new.db'}", tmp_path))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:2]))
def test_an_unmigrated_database_is_named_not_a_traceback(empty_app, tmp_path, args):
    rounds = tmp_path / "rounds.csv"
    rounds.write_text("cluster,held_on\n")
    args = [a.replace("{file}", str(rounds)) for a in args]
    result = empty_app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert result.output == (
        "Error: The database is not migrated yet: run portal db upgrade first.\n"
    )
    assert isinstance(result.exception, SystemExit)  # no traceback
    with empty_app.app_context():  # nothing was written on the way
        assert inspect(db.engine).get_table_names() == []


def test_plugins_without_their_tables_are_named(empty_app):
    """The core is migrated, the plugins' branches are not (e.g. a plugin installed since)."""
    with empty_app.app_context():
        core = migrations_runner.targets(empty_app)[0]
        command.upgrade(core.config, "head")
        missing = migrations_runner.unmigrated(empty_app)
    assert "core" not in missing and "joint" in missing
    result = empty_app.test_cli_runner().invoke(args=["plugins", "list"])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: The database has no tables yet for the plugins {', '.join(missing)}: run "
        "portal db upgrade first.\n"
    )
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    listed = runner.invoke(args=["plugins", "list"])
    assert listed.exit_code == 0 and "joint" in listed.output


def test_the_message_is_translated(empty_app):
    from portal.cli.database import require_migrated

    with empty_app.app_context(), force_locale("nb"), pytest.raises(Exception) as raised:
        require_migrated(empty_app)
    assert "portal db upgrade" in raised.value.message
    assert "not migrated" not in raised.value.message
