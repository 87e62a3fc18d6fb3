"""``python -m bench.profile``: where one page's render time goes, in-process (no HTTP server,
page cache off), on a synthetic region: the p50 of repeated renders (the bench's "first visit"),
the SQL statements by time, and, with ``--cprofile``, the functions by time.

A region takes a minute or more to build: ``--save F`` keeps its database and writes what the
next run needs to F; ``--reuse F`` profiles on it again; ``--drop F`` drops it.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import os
import pstats
import secrets
import shutil
from collections import defaultdict
from pathlib import Path
from statistics import median
from time import perf_counter

from sqlalchemy import event

from bench import pages, queries, synth
from bench.console import note, say
from bench.database import Database
from portal.web.page_cache import EXTENSION

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("--page", default="programme", help="a page key of bench/pages.py")
    p.add_argument("--clusters", type=int, default=500)
    p.add_argument("--aimed-every", type=int, default=0, help="one action in N aims [0: none]")
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-url", default=DEFAULT_PG)
    p.add_argument("--as", dest="role", choices=("coordinator", "manager"), default="coordinator")
    p.add_argument("--n", type=int, default=11, help="timed renders [11]")
    p.add_argument("--cprofile", action="store_true", help="profile the timed renders")
    p.add_argument(
        "--cache",
        choices=("off", "fragments", "pages"),
        default="off",
        help="off: every render is a first visit [off]; fragments: the page cache on, its pages"
        " dropped before each render (the next kind of reader's render after a write, the"
        " page's kept fragments served from the keep); pages: the page cache on (revisits)",
    )
    p.add_argument("--pstats", help="with --cprofile: also write the profile to this file")
    p.add_argument("--rows", type=int, default=25, help="lines of each table [25]")
    p.add_argument("--save", help="keep the database; write its description to this file")
    p.add_argument("--reuse", help="a file written by --save")
    p.add_argument("--drop", help="drop the database a --save file describes, and the file")
    return p


class _SqlTimes:
    """Each statement's shape: how often it ran and for how long (cursor execute to after)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.total: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    def _before(self, conn, cursor, statement, params, context, executemany):
        conn.info["bench_started"] = perf_counter()

    def _after(self, conn, cursor, statement, params, context, executemany):
        shape = queries._shape(statement)
        self.total[shape] += perf_counter() - conn.info.pop("bench_started", perf_counter())
        self.count[shape] += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def _drop(described: str) -> None:
    """Drop the database a ``--save`` file describes (as ``Database.drop`` does), and the file."""
    saved = json.loads(Path(described).read_text())
    db = Database(saved["kind"], saved["pg_url"], keep=False)
    shutil.rmtree(db.folder, ignore_errors=True)  # the new instance's own, unused folder
    db.name, db.folder = saved["name"], Path(saved["folder"])
    db.drop()
    Path(described).unlink()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.drop:
        _drop(args.drop)
        return 0
    from portal import create_app

    if args.reuse:
        saved = json.loads(Path(args.reuse).read_text())
        url, region = saved["url"], synth.Region(**saved["region"])
    else:
        db = Database(args.db, args.pg_url, keep=True)
        db.create()
        url = db.url
    os.environ.update(
        {
            "PORTAL_DATABASE_URL": url,
            "PORTAL_PAGE_CACHE_MB": "0" if args.cache == "off" else "64",
            "PORTAL_SECRET_KEY": "bench-" + secrets.token_hex(16),
        }
    )
    app = create_app()
    if not args.reuse:
        synth.migrate(app)
        note("building the region")
        scale = synth.Scale.for_clusters(args.clusters)
        region = synth.build(app, dataclasses.replace(scale, aimed_every=args.aimed_every))
        if args.save:
            described = {"kind": db.kind, "name": db.name, "pg_url": db.pg_url}
            described |= {"folder": str(db.folder), "url": url, "region": region.as_dict()}
            Path(args.save).write_text(json.dumps(described))
            note(f"kept: {args.save}")
    (page,) = [p for p in pages.PAGES if p.key == args.page]
    (resolved,) = pages.resolve(app, region, (page,))
    email = region.coordinator_email if args.role == "coordinator" else region.manager_email
    client = queries.signed_in_client(app, email, region.password)
    headers = (
        {"Authorization": queries.api_token(app, email, region.tenant_slug)} if page.token else {}
    )
    from portal.extensions import db as sa

    with app.app_context():
        engine = sa.engine
    started = perf_counter()
    status = client.get(resolved.path, headers=headers).status_code
    say(f"{page.key} {resolved.path} as the {args.role}: {status}")
    say(f"first render in the process: {(perf_counter() - started) * 1000:.1f} ms")
    profiler = cProfile.Profile() if args.cprofile else None
    times = []
    with _SqlTimes(engine) as sql:
        for _ in range(args.n):
            if args.cache == "fragments":
                app.extensions[EXTENSION].clear()
            started = perf_counter()
            if profiler:
                profiler.enable()
            client.get(resolved.path, headers=headers)
            if profiler:
                profiler.disable()
            times.append(perf_counter() - started)
    say(f"renders: p50 {median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms")
    per_render = sum(sql.count.values()) / args.n
    sql_ms = sum(sql.total.values()) * 1000 / args.n
    say(f"SQL per render: {per_render:.0f} statements, {sql_ms:.1f} ms")
    for shape, seconds in sorted(sql.total.items(), key=lambda kv: -kv[1])[: args.rows]:
        count = sql.count[shape] / args.n
        say(f"  {seconds * 1000 / args.n:7.2f} ms  x{count:<4g} {shape}")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats(os.environ.get("SORT", "cumulative")).print_stats(args.rows)
        if args.pstats:
            stats.dump_stats(args.pstats)
    if not args.reuse and not args.save:
        db.keep = False
        db.drop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
