"""``portal rounds import``: benchmarking rounds of many clusters from a CSV or XLSX file."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path

import click

from portal.benchmarking import round_import
from portal.cli.database import needs_database
from portal.cli.people import _tenant
from portal.clusters.importer import RowError
from portal.tenancy import tenant_scope

PROGRESS_FROM = 1000  # rows (or rounds); smaller files are checked and written in a blink


class _Quiet:
    def update(self, _n: int) -> None:
        pass


def _progress(phase: str, total: int):
    """A bar on stderr while checking the rows and while writing the rounds."""
    if total < PROGRESS_FROM and not (phase == "writing" and total >= PROGRESS_FROM // 10):
        return nullcontext(_Quiet())
    return click.progressbar(length=total, label=phase, file=sys.stderr)


def _where(error: RowError) -> str:
    parts = []
    if error.row:
        parts.append(f"row {error.row}")
    if error.column:
        parts.append(f"column {error.column}")
    return ", ".join(parts) or "file"


@click.group("rounds")
def rounds_group() -> None:
    """Benchmarking rounds."""


@rounds_group.command("import")
@click.argument("tenant_slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only check the file, write nothing.")
@needs_database
def rounds_import(tenant_slug: str, file: Path, dry_run: bool) -> None:
    """Import the rounds in FILE into the region TENANT_SLUG: every row or none.

    The format is described in docs/rounds-import.md.
    """
    tenant = _tenant(tenant_slug)
    raw = file.read_bytes()
    with tenant_scope(tenant.id):
        outcome = round_import.import_rounds(
            None, tenant.id, raw, dry_run=dry_run, progress=_progress
        )
    if outcome.errors:
        for error in outcome.errors:
            click.echo(f"{_where(error)}: {error.message}", err=True)
        click.echo(f"{len(outcome.errors)} problem(s) found; nothing was imported.", err=True)
        sys.exit(1)
    summary = f"{len(outcome.rounds)} round(s) with {outcome.values} value(s)"
    if outcome.written:
        click.echo(f"imported {summary} into {tenant.slug}")
    else:
        click.echo(f"the file is fine: {summary} would be imported into {tenant.slug} (dry run)")
