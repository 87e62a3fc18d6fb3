"""``portal storage``: check that the configured file storage works, and copy a local upload
folder's files to S3-compatible storage (before switching a portal to ``PORTAL_STORAGE=s3``).

The keys stay as they are, so the database needs no change: after the copy, the same rows
find the same files in the bucket.
"""

from __future__ import annotations

import io
import secrets
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.files.storage import (
    LocalStorage,
    ObjectMissing,
    StorageUnavailable,
    build_storage,
    check_key,
)

PROBE = b"portal storage check\n"


@click.group("storage", cls=AppGroup)  # its commands run in the app context
def storage_group() -> None:
    """The storage of uploaded files (a local folder or S3-compatible object storage)."""


def _configured(overrides: dict | None = None):
    try:
        return build_storage({**current_app.config, **(overrides or {})})
    except ValueError as exc:
        sys.exit(f"The storage is not configured right: {exc}")


@storage_group.command("check")
@click.option("--files", "check_files", is_flag=True, help="Also look up every stored file.")
def check_command(check_files: bool) -> None:
    """Write, read and delete a probe object in the configured storage."""
    backend = _configured()
    click.echo(f"Storage: {backend.describe()}")
    key = f"probe/{secrets.token_hex(8)}"
    steps = (
        ("write a probe object", lambda: backend.save(key, io.BytesIO(PROBE), "text/plain")),
        ("read it back", lambda: _read_back(backend, key)),
        ("delete it", lambda: backend.delete(key)),
        ("see it gone", lambda: _gone(backend, key)),
    )
    for label, step in steps:
        try:
            step()
        except (StorageUnavailable, ObjectMissing, ValueError) as exc:
            click.echo(f"  {label}: FAILED", err=True)
            sys.exit(f"The storage does not work: {exc}")
        click.echo(f"  {label}: ok")
    if check_files:
        missing = _missing_files(backend)
        if missing:
            for line in missing[:20]:
                click.echo(f"  missing: {line}", err=True)
            sys.exit(f"{len(missing)} stored files have no object in {backend.describe()}")
        click.echo("  every stored file has its object: ok")
    click.echo("The storage works.")


def _read_back(backend, key: str) -> None:
    with backend.open(key) as handle:
        data = handle.read()
    if data != PROBE:
        raise ValueError(f"read back {len(data)} bytes that differ from the {len(PROBE)} written")


def _gone(backend, key: str) -> None:
    if backend.exists(key):
        raise ValueError("the probe object is still there after its delete")


def _missing_files(backend) -> list[str]:
    from portal.extensions import db
    from portal.files.models import StoredFile
    from portal.tenancy.scope import unscoped

    with unscoped():
        rows = db.session.execute(
            select(StoredFile.id, StoredFile.tenant_id, StoredFile.storage_key)
        ).all()
    try:
        return [
            f"file {row.id} of region {row.tenant_id} ({row.storage_key})"
            for row in rows
            if not backend.exists(row.storage_key)
        ]
    except StorageUnavailable as exc:
        sys.exit(f"The storage does not work: {exc}")


@storage_group.command("copy")
@click.option("--to", "target", type=click.Choice(["s3"]), required=True, help="Where to.")
@click.option(
    "--from-dir",
    type=click.Path(file_okay=False, exists=True),
    help="The local folder (default: PORTAL_UPLOAD_DIR, the instance folder's uploads).",
)
@click.option("--overwrite", is_flag=True, help="Copy objects that are there already too.")
def copy_command(target: str, from_dir: str | None, overwrite: bool) -> None:
    """Copy every file of the local upload folder to the S3 storage (PORTAL_S3_* settings)."""
    source = LocalStorage(from_dir or current_app.config["UPLOAD_DIR"])
    destination = _configured({"STORAGE_BACKEND": target})
    keys, skipped_names = [], []
    for key in source.iter_keys():
        try:
            keys.append(check_key(key))
        except ValueError:
            skipped_names.append(key)
    click.echo(f"From {source.describe()} to {destination.describe()}: {len(keys)} files")
    copied = present = 0
    try:
        with click.progressbar(keys, label="Copying", show_pos=True) as bar:
            for key in bar:
                if not overwrite and _same_size(source, destination, key):
                    present += 1
                    continue
                with source.open(key) as stream:
                    destination.save(key, stream, "application/octet-stream")
                copied += 1
    except StorageUnavailable as exc:
        sys.exit(f"Stopped after {copied} files: {exc}")
    for name in skipped_names:
        click.echo(f"  not a file the portal wrote, left out: {name}", err=True)
    click.echo(f"{copied} copied, {present} there already.")
    click.echo("Set PORTAL_STORAGE=s3 on every host, then run `portal storage check --files`.")


def _same_size(source: LocalStorage, destination, key: str) -> bool:
    try:
        return destination.size(key) == source.size(key)
    except ObjectMissing:
        return False
