"""The ``portal`` command line: Flask's own commands plus the portal's."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def _create_app():
    from portal import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=True)
def main() -> None:
    """Cluster Forum Portal."""


def register_app_commands(app: Flask, host) -> None:
    from portal.cli.db import db_group
    from portal.cli.demo import demo_command
    from portal.cli.figures import figures_group
    from portal.cli.labels import labels_group
    from portal.cli.people import tenant_group, user_group
    from portal.cli.plugin_new import plugin_group
    from portal.cli.plugins import plugins_group
    from portal.cli.reminders import reminders_command
    from portal.cli.rounds import rounds_group
    from portal.cli.search import search_group
    from portal.cli.serve import serve_command
    from portal.cli.storage import storage_group
    from portal.cli.tokens import token_group
    from portal.cli.worker import worker_command

    for command in (
        db_group,
        demo_command,
        figures_group,
        serve_command,
        tenant_group,
        user_group,
        plugins_group,
        plugin_group,
        reminders_command,
        rounds_group,
        search_group,
        storage_group,
        labels_group,
        token_group,
        worker_command,
    ):
        app.cli.add_command(command)
    with app.app_context():
        for plugin_name, commands in host.call_named("cli_commands"):
            for command in commands:
                if command.name in app.cli.commands:
                    host.disable_after_error(
                        plugin_name,
                        "cli_commands",
                        ValueError(f"command name {command.name!r} is taken"),
                    )
                    continue
                app.cli.add_command(command)
