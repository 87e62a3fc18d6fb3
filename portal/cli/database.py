"""What the commands that read or write the database share: on a database that was never
migrated they stop with one line telling to run ``portal db upgrade``, not a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from portal import migrations_runner


def require_migrated(app: Flask | None = None) -> None:
    """Stop the command (exit code 1) when the core or a plugin branch was never migrated."""
    missing = migrations_runner.unmigrated(app or current_app)
    if "core" in missing:
        raise click.ClickException(
            _("The database is not migrated yet: run portal db upgrade first.")
        )
    if missing:
        raise click.ClickException(
            _(
                "The database has no tables yet for the plugins %(names)s: run portal db "
                "upgrade first.",
                names=", ".join(missing),
            )
        )


def needs_database(f: Callable[..., Any]) -> Callable[..., Any]:
    """Like ``with_appcontext``, and the command runs only on a migrated database."""

    @functools.wraps(f)
    def checked(*args: Any, **kwargs: Any) -> Any:
        require_migrated()
        return f(*args, **kwargs)

    return with_appcontext(checked)
