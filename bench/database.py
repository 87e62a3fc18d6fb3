"""A fresh database for one benchmark scale: SQLite or PostgreSQL."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path

from bench.console import note


class Database:
    """A fresh database for one scale: a SQLite file in a temporary folder, or a PostgreSQL
    database ``portal_bench_<random>`` created and dropped on the given server."""

    def __init__(self, kind: str, pg_url: str, keep: bool) -> None:
        self.kind = kind
        self.pg_url = pg_url.rstrip("/")
        self.keep = keep
        self.folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        if kind == "sqlite":
            self.url = f"sqlite:///{self.folder / 'bench.db'}"
            self.name = str(self.folder / "bench.db")
        else:
            self.name = f"portal_bench_{secrets.token_hex(4)}"
            host = self.pg_url.split("://", 1)[1]
            self.url = f"postgresql+psycopg://{host}/{self.name}"

    def _admin(self):
        import psycopg

        return psycopg.connect(f"{self.pg_url}/postgres", autocommit=True)

    def create(self) -> None:
        if self.kind == "postgresql":
            with self._admin() as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        if self.keep:
            note(f"kept the database: {self.url}")
            return
        if self.kind == "postgresql":
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        shutil.rmtree(self.folder, ignore_errors=True)
