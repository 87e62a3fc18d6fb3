"""``python -m bench.import_round``: time and peak memory of importing a whole round of every
cluster of a synthetic region (bench/synth.py) from one CSV and one XLSX file, through the
command line's path (check every row, then write in one transaction), on SQLite or PostgreSQL.

    python -m bench.import_round --clusters 2000 --db sqlite
    python -m bench.import_round --clusters 2000 --db postgresql --pg-url postgresql+psycopg://...

Each format is imported in a child process of its own into the same region (another day), so
the peak resident memory (ru_maxrss) is the import's, not the region build's.

Meanwhile another process (as another web worker would be) edits one of the region's actions
through the API (PATCH with If-Match, as a user would) every 50 ms, and the edits that started
while the import checked and while it wrote are reported against those made before it began
(issue 18: "a write waits at most 100 ms behind any import"). A thread of the importing process
would measure Python's lock between the two threads instead.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def _file(app, fmt: str, day: date) -> bytes:
    """One row per cluster and ESCA gold indicator: a whole round of the region."""
    from sqlalchemy import select

    from portal.benchmarking.services import find_set
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.tenancy import unscoped

    with app.test_request_context(), unscoped():
        names = list(db.session.scalars(select(Cluster.name).order_by(Cluster.id)))
        gold = find_set("esca-gold", "2013")
        indicators = [(i.id, i.minimum, i.maximum) for i in gold.indicators]
    header = ["cluster", "date", "indicator_set", "version", "indicator", "value", "assessor"]
    rows = [
        [n, day.isoformat(), "esca-gold", "2013", i, (lo + hi) / 2, "Bench Expert"]
        for n in names
        for i, lo, hi in indicators
    ]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode()
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


class _EditsBeside:
    """A thread that edits one action of the region through the API every 50 ms and keeps
    how long each edit took, with when it started."""

    def __init__(self, app, tenant_slug: str) -> None:
        from sqlalchemy import select

        from bench.synth import COORDINATOR_EMAIL
        from portal.accounts.models import User
        from portal.api import tokens
        from portal.extensions import db
        from portal.tenancy.models import Tenant

        with app.test_request_context():
            tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
            user = db.session.scalar(select(User).where(User.email == COORDINATOR_EMAIL))
            made = tokens.create_token(user, tenant, "bench import", ["read", "write"], 1)
            action = db.metadata.tables["plan_action"]
            self.action_id = db.session.scalar(
                select(action.c.id).where(action.c.tenant_id == tenant.id).limit(1)
            )
        self.client = app.test_client()
        self.path = f"/api/v1/{tenant_slug}/actions/{self.action_id}"
        self.auth = {"Authorization": f"Bearer {made.secret}"}
        self.edits: list[tuple[float, float, int]] = []  # (started, ms, status)

    def run_until(self, stop: Path) -> None:
        progress = 5
        while not stop.exists():
            started = time.time()
            got = self.client.get(self.path, headers=self.auth)
            progress = progress % 90 + 5
            done = self.client.patch(
                self.path,
                json={"progress": progress},
                headers={**self.auth, "If-Match": got.headers.get("ETag", "")},
            )
            self.edits.append((started, (time.time() - started) * 1000, done.status_code))
            time.sleep(0.05)


def _during(edits: list, begin: float, end: float) -> dict:
    """The edits that started from ``begin`` to ``end`` (wall clock)."""
    inside = sorted(ms for at, ms, _status in edits if begin <= at < end)
    statuses = sorted({status for at, _ms, status in edits if begin <= at < end})
    if not inside:
        return {"edits": 0}
    return {
        "edits": len(inside),
        "p50_ms": round(statistics.median(inside), 1),
        "max_ms": round(inside[-1], 1),
        "statuses": statuses,
    }


def _editor(out: str) -> None:
    """The other process: edit until the stop file appears, then write the edits out."""
    from portal import create_app

    editor = _EditsBeside(create_app(), "bench")
    editor.run_until(Path(out + ".stop"))
    Path(out).write_text(json.dumps(editor.edits))


def _child(path: str) -> None:
    from portal import create_app
    from portal.benchmarking import round_import
    from portal.tenancy import tenant_scope
    from portal.tenancy.models import Tenant

    app = create_app()
    raw = Path(path).read_bytes()
    with app.test_request_context():
        from portal.extensions import db

        tenant = db.session.query(Tenant).filter_by(slug="bench").one()
        started = time.time()
        with tenant_scope(tenant.id):
            outcome = round_import.check_file(None, tenant.id, raw)
            checked = time.time()
            assert not outcome.errors, outcome.errors[:3]
            round_import.write(None, tenant.id, outcome)
            assert outcome.written, outcome.errors
        ended = time.time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": outcome.rows,
                "rounds": len(outcome.rounds),
                "check_s": round(checked - started, 2),
                "write_s": round(ended - checked, 2),
                "total_s": round(ended - started, 2),
                "peak_rss_mb": round(peak),
                "bytes": len(raw),
                "phases": [started, checked, ended],
            }
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.import_round")
    p.add_argument("--clusters", type=int, default=2000)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--pg-url", help="an EMPTY PostgreSQL database (SQLAlchemy URL)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--editor", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(args.child)
        return
    if args.editor:
        _editor(args.editor)
        return
    from bench import synth
    from portal import create_app

    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    url = args.pg_url if args.db == "postgresql" else f"sqlite:///{folder / 'portal.db'}"
    os.environ.update(
        {"PORTAL_DATABASE_URL": url, "PORTAL_SECRET_KEY": "bench", "PORTAL_PAGE_CACHE_MB": "0"}
    )
    app = create_app()
    synth.migrate(app)
    region = synth.build(app, synth.Scale.for_clusters(args.clusters, smoke=True))
    print(f"region built in {region.seconds} s: {args.clusters} clusters ({args.db})")
    for n, fmt in enumerate(("csv", "xlsx")):
        path = folder / f"round.{fmt}"
        path.write_bytes(_file(app, fmt, date.today() - timedelta(days=10 + n)))
        edits = folder / f"edits-{fmt}.json"
        editor = subprocess.Popen(
            [sys.executable, "-m", "bench.import_round", "--editor", str(edits)], env=os.environ
        )
        time.sleep(4)  # edits before the import: the yardstick
        result = subprocess.run(
            [sys.executable, "-m", "bench.import_round", "--child", str(path)],
            capture_output=True,
            text=True,
            env=os.environ,
            check=False,
        )
        Path(str(edits) + ".stop").touch()
        editor.wait(timeout=120)
        if result.returncode:
            print(result.stderr[-3000:])
            sys.exit(1)
        measured = json.loads(result.stdout.strip().splitlines()[-1])
        started, checked, ended = measured.pop("phases")
        made = json.loads(edits.read_text())
        measured["edits_before"] = _during(made, 0, started)
        measured["edits_while_checking"] = _during(made, started, checked)
        measured["edits_while_writing"] = _during(made, checked, ended)
        print(fmt, json.dumps(measured))


if __name__ == "__main__":
    main()
