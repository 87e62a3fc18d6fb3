"""`portal send-reminders` (being built)."""

import click


@click.command("send-reminders")
def reminders_command() -> None:
    """Send due reminders (run daily by cron)."""
