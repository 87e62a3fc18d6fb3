"""``python -m bench``: build a synthetic region, serve it with gunicorn, load each main page with
wrk, and write what it measured (JSON, Markdown, SVG) to bench/results.

Honest by construction: every page and /hello are measured against the same server, workers and
database in the same run; each page is warmed up before it is measured; several runs are made and
the median quoted; the machine and the settings are printed first and kept with the results. A
page whose responses are not all the expected status (a redirect to the sign-in page, an error)
FAILs instead of being measured.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import load, machine, pages, queries, report, server, synth

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
RESULTS = Path(__file__).resolve().parent / "results"
FULL = {"clusters": 500, "duration": 10, "warmup": 2, "runs": 3}
SMOKE = {"clusters": 5, "duration": 1, "warmup": 1, "runs": 1}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the portal's main pages against its bare /hello.",
    )
    p.add_argument(
        "--clusters", type=int, help="size of the region; the rest scales with it [500; smoke 5]"
    )
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite", help="[sqlite]")
    p.add_argument(
        "--pg-url",
        default=os.environ.get("PORTAL_BENCH_PG", DEFAULT_PG),
        help="PostgreSQL server to create (and drop) the benchmark database on [%(default)s]",
    )
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers [2]")
    p.add_argument("--duration", type=int, help="seconds per page per run [10; smoke 1]")
    p.add_argument(
        "--warmup", type=int, help="seconds of load before each measurement [2; smoke 1]"
    )
    p.add_argument("--runs", type=int, help="runs; the median is quoted [3; smoke 1]")
    p.add_argument("--connections", type=int, help="wrk connections [2 × workers]")
    p.add_argument("--threads", type=int, default=1, help="wrk threads [1]")
    p.add_argument(
        "--scale-run",
        action="store_true",
        help="measure at each of --scales clusters and compare (which pages grow with data)",
    )
    p.add_argument("--scales", default="50,500", help="cluster counts of --scale-run [50,500]")
    p.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds: 5 clusters of tiny data, 1 s per page, 1 run (CI)",
    )
    p.add_argument("--only", help="comma-separated page keys to measure (and /hello)")
    p.add_argument(
        "--out", type=Path, default=RESULTS, help="where the results are written [bench/results]"
    )
    p.add_argument(
        "--page-cache",
        choices=("on", "off"),
        default="on",
        help="the server's page cache: on (as deployed: revisits served until the data "
        "changes) or off (every request renders) [on]",
    )
    p.add_argument("--keep-db", action="store_true", help="do not delete the database afterwards")
    return p


def _settings(args) -> dict:
    defaults = SMOKE if args.smoke else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    connections = args.connections or 2 * args.workers
    scales = [int(s) for s in args.scales.split(",")] if args.scale_run else [args.clusters]
    return {
        "db": args.db,
        "clusters": scales,
        "workers": args.workers,
        "duration": args.duration,
        "warmup": args.warmup,
        "runs": args.runs,
        "connections": connections,
        "threads": args.threads,
        "smoke": args.smoke,
        "only": args.only,
        "page_cache": args.page_cache,
        "wrk_timeout_s": 30,
    }


def say(text: str = "") -> None:
    print(text, flush=True)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the database -------------------------------------------------------------------------------


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


# --- one scale ----------------------------------------------------------------------------------


def _env(db: Database, page_cache: str) -> dict[str, str]:
    return {
        "PORTAL_PAGE_CACHE_MB": "64" if page_cache == "on" else "0",
        "PORTAL_DATABASE_URL": db.url,
        "PORTAL_SECRET_KEY": "bench-" + secrets.token_hex(16),
        "PORTAL_UPLOAD_DIR": str(db.folder / "uploads"),
        # Each run signs in once; the default limit would not notice, but a long scale run might.
        "PORTAL_LOGIN_RATE_LIMIT": "1000 per minute",
        # The API operations are loaded with one token: its limit would measure 429s.
        "PORTAL_API_RATE_LIMIT": "10000000 per minute",
    }


def _page_entry(item: pages.Resolved) -> dict:
    page = item.page
    entry = {
        "key": page.key,
        "title": page.title,
        "path": item.path,
        "endpoint": page.endpoint,
        "expected_status": page.expected_status,
        "token": page.token,
        "target": page.target,
        "status": "skipped" if item.skipped else "ok",
        "notes": [item.skipped] if item.skipped else [],
        "runs": [],
    }
    return entry


def measure_scale(clusters: int, settings: dict, args) -> dict:
    from portal import create_app

    db = Database(settings["db"], args.pg_url, args.keep_db)
    note(f"\n== {clusters} clusters: a fresh {settings['db']} database ({db.name})")
    db.create()
    srv = app = None
    try:
        env = _env(db, settings["page_cache"])
        # In-process, every request renders: the queries counted are the page's own work.
        os.environ.update({**env, "PORTAL_PAGE_CACHE_MB": "0"})
        app = create_app()
        from portal.extensions import db as sa

        with app.app_context():
            database = machine.database_version(sa.engine)
        synth.migrate(app)
        scale = synth.Scale.for_clusters(clusters, smoke=settings["smoke"])
        note(f"building the region ({database})")
        region = synth.build(app, scale)
        note(f"built: {synth.describe(region)}")
        for line in region.notes:
            note(f"note: {line}")

        wanted = None
        if settings["only"]:
            wanted = {k.strip() for k in settings["only"].split(",")} | {pages.HELLO}
        resolved = [r for r in pages.resolve(app, region) if wanted is None or r.page.key in wanted]
        entries = {r.page.key: _page_entry(r) for r in resolved}
        for r in resolved:
            if r.skipped:
                note(f"skipping {r.page.key}: {r.skipped}")

        # Queries per request, in-process, on the same database and as the same user.
        client = queries.signed_in_client(app, region.coordinator_email, region.password)
        # The API operations: the coordinator's token, the same in-process and under wrk.
        authorization = ""
        if any(r.page.token and not r.skipped for r in resolved):
            authorization = queries.api_token(app, region.coordinator_email, region.tenant_slug)
        settings = {**settings, "authorization": authorization}
        for r in resolved:
            if r.skipped:
                continue
            counted = queries.measure(
                client,
                app,
                r.path,
                r.page.expected_status,
                r.page.etag_revisit,
                authorization if r.page.token else "",
            )
            entries[r.page.key]["in_process"] = counted
            entries[r.page.key]["queries"] = counted.get("queries")
            if counted.get("error"):
                entries[r.page.key]["status"] = "FAIL"
                entries[r.page.key]["notes"].append(f"in-process: {counted['error']}")
        with app.app_context():
            sa.session.remove()
            sa.engine.dispose()

        srv = server.Server(
            server.process_env(env), settings["workers"], db.folder / "gunicorn.log"
        )
        note(f"starting: {' '.join(srv.command[2:])}")
        srv.start()
        active = [r for r in resolved if not r.skipped and entries[r.page.key]["status"] == "ok"]
        for run in range(settings["runs"]):
            _one_run(run, srv, active, entries, region, settings)
        worker_pids = srv.worker_pids()
        return {
            "clusters": clusters,
            "database": database,
            "region": region.as_dict(),
            "server_command": " ".join(
                ["gunicorn", *(a for a in srv.command[3:] if not a.startswith("--chdir"))]
            ),
            "worker_pids_at_end": worker_pids,
            "pages": [report.summarise(entries[r.page.key]) for r in resolved],
        }
    finally:
        if srv is not None:
            srv.stop()
        if app is not None:
            from portal.extensions import db as sa

            with app.app_context():
                sa.session.remove()
                sa.engine.dispose()
        db.drop()


def _one_run(run: int, srv: server.Server, active, entries, region, settings) -> None:
    browser = server.Browser(srv.port)
    browser.sign_in(region.coordinator_email, region.password)
    etags: dict[str, str] = {}
    # Check each page once, signed in (and let a first visit set what it sets in the session).
    authorization = settings.get("authorization", "")

    def token_of(r) -> dict:
        return {"Authorization": authorization} if r.page.token else {}

    for r in active:
        status, headers, _ = browser.get(r.path, token_of(r))
        if r.page.etag_revisit:
            etags[r.page.key] = headers.get("etag", "")
            status, headers, _ = browser.get(r.path, {"If-None-Match": etags[r.page.key]})
        if status != r.page.expected_status:
            entries[r.page.key]["runs"].append(
                {"run": run + 1, "problems": [f"answered {status} before the load"]}
            )
    for r in active:
        status, headers, _ = browser.get(r.path, token_of(r))
        notes = entries[r.page.key]["notes"]
        if (
            headers.get("cookie-changed")
            and "sets a new session cookie on every visit" not in notes
        ):
            notes.append("sets a new session cookie on every visit")
    cookie = browser.cookie_header
    order = active[run % len(active) :] + active[: run % len(active)] if active else []
    results: dict[str, dict] = {}
    pids = srv.worker_pids()
    for r in order:
        if any(x.get("problems") for x in entries[r.page.key]["runs"] if x["run"] == run + 1):
            continue
        url = srv.base + r.path
        common = {
            # An API operation carries its token and no session: a cookie opens no API.
            "cookie": "" if r.page.token else cookie,
            "authorization": authorization if r.page.token else "",
            "connections": settings["connections"],
            "threads": settings["threads"],
            "expect": r.page.expected_status,
            "if_none_match": etags.get(r.page.key),
            "timeout_s": settings["wrk_timeout_s"],
        }
        if settings["warmup"]:
            load.run_wrk(url, seconds=settings["warmup"], **common)
        # Requests the warm-up left in flight must not run into the measured window.
        waited = srv.wait_idle()
        peaks_reset = srv.reset_peaks()
        measured = load.run_wrk(url, seconds=settings["duration"], **common)
        srv.wait_idle()
        problems = load.problems(measured)
        now_pids = srv.worker_pids()
        if now_pids != pids:
            problems.append(f"gunicorn workers changed {pids} -> {now_pids} (a worker died)")
            pids = now_pids
        results[r.page.key] = {
            "run": run + 1,
            "rps": round(measured["rps"], 2),
            "p50_ms": round(measured["p50_ms"], 2),
            "p95_ms": round(measured["p95_ms"], 2),
            "p99_ms": round(measured["p99_ms"], 2),
            "mean_ms": round(measured["mean_ms"], 2),
            "requests": measured["requests"],
            "peak_mb": srv.peak_mb(),
            "peak_since": "this page's load" if peaks_reset else "the workers' start",
            "idle_wait_s": waited,
            "problems": problems,
            "wrk": measured,
        }
        flag = "  FAIL: " + "; ".join(problems) if problems else ""
        note(
            f"  run {run + 1}/{settings['runs']}  {r.page.key:<15} {measured['rps']:9.1f} req/s"
            f"  p50 {measured['p50_ms']:8.1f} ms  p99 {measured['p99_ms']:8.1f} ms{flag}"
        )
    hello = results.get(pages.HELLO)
    for key, value in results.items():
        if hello and hello["rps"] and not hello["problems"]:
            value["ratio"] = round(value["rps"] / hello["rps"], 4)
        entries[key]["runs"].append(value)


# --- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = _settings(args)
    if load.wrk_path() is None:
        note(load.INSTALL_HINT)
        return 2
    started = datetime.now(UTC).replace(microsecond=0)
    info = machine.describe()
    say(f"Machine: {info['cpu']} · {info['cores']} cores · {info['ram_gb']} GB RAM · {info['os']}")
    say(
        f"Software: Python {info['python']} · Flask {info['flask']} · SQLAlchemy "
        f"{info['sqlalchemy']} · gunicorn {info['gunicorn']} · {info['wrk']} · code {info['git']}"
    )
    say(f"Load average at start: {info['load_average_at_start']}")
    if info["load_average_at_start"] and info["load_average_at_start"][0] > 0.5 * (
        info["cores"] or 1
    ):
        say("Warning: the machine is busy; the numbers will be noisy.")
    say("Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items() if k != "only" or v))
    began = time.monotonic()
    result = {
        "format": 1,
        "started_at": started.isoformat(),
        "machine": info,
        "settings": settings,
        "scales": [],
    }
    for clusters in settings["clusters"]:
        try:
            result["scales"].append(measure_scale(clusters, settings, args))
        except (server.ServerError, load.LoadError) as exc:
            note(f"benchmark aborted at {clusters} clusters: {exc}")
            return 1
    if len(result["scales"]) >= 2:
        result["scaling"] = report.scaling(result["scales"][0], result["scales"][-1])
    result["machine"]["load_average_at_end"] = machine.load_average()
    result["seconds"] = round(time.monotonic() - began, 1)
    failed = [
        f"{s['clusters']}:{p['key']}"
        for s in result["scales"]
        for p in s["pages"]
        if p["status"] == "FAIL"
    ]
    result["ok"] = not failed
    name = (
        f"{started.strftime('%Y%m%d-%H%M%S')}-{settings['db']}-"
        + "-".join(str(c) for c in settings["clusters"])
        + ("-smoke" if settings["smoke"] else "")
    )
    paths = report.write(result, args.out, name)
    say("")
    say(report.markdown(result))
    say("Written: " + ", ".join(str(p) for p in paths.values()))
    if failed:
        say(f"FAILED pages (errors, not slowness): {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
