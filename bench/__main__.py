"""``python -m bench``: build a synthetic region, serve it with gunicorn, load each main page with
wrk while several signed-in users read (and, with ``--writes``, write), and write what it
measured (JSON, Markdown, SVG) to bench/results.

Honest by construction, on a noisy machine too: every page is measured in 1-second slices
alternating with /hello on the same server, workers and database (bench/slices.py), and its
share of /hello is the median of the slices' ratios, with their spread; the machine and the
settings are printed first and kept with the results. A page whose responses are not all the
expected status (a redirect to the sign-in page, an error) FAILs instead of being measured, and
so does a write answering 5xx.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import load, machine, pages, queries, report, server, slices, synth, writes
from bench.database import Database

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
RESULTS = Path(__file__).resolve().parent / "results"
FULL = {"clusters": 500, "slices": 6, "warmup": 1}
SMOKE = {"clusters": 5, "slices": 1, "warmup": 0}


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
    p.add_argument("--slices", type=int, help="page / /hello slice pairs per page [6; smoke 1]")
    p.add_argument("--slice", type=int, default=1, help="seconds per slice [1]")
    p.add_argument(
        "--warmup", type=int, help="seconds of load on a page before its slices [1; smoke 0]"
    )
    p.add_argument(
        "--writes",
        default="0",
        help="write shares to measure, in percent of the requests, comma-separated, each on "
        "the same server one after the other (e.g. 0,1) [0]",
    )
    p.add_argument("--users", type=int, default=8, help="signed-in users who read and write [8]")
    p.add_argument(
        "--connections", type=int, help="wrk connections [the users, at least 2 × workers]"
    )
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
        help="a few seconds: 5 clusters of tiny data, one slice pair per page (CI)",
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
    p.add_argument(
        "--redis",
        help="a Redis database URL for the server (page cache, shared figures, sessions, "
        "limits), as deployed on several hosts; the database is emptied before and after "
        "(e.g. redis://127.0.0.1:6379/9) [none: each worker keeps its own]",
    )
    p.add_argument("--keep-db", action="store_true", help="do not delete the database afterwards")
    return p


def _settings(args) -> dict:
    defaults = SMOKE if args.smoke else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    connections = args.connections or max(args.users, 2 * args.workers)
    scales = [int(s) for s in args.scales.split(",")] if args.scale_run else [args.clusters]
    shares = [float(w) for w in args.writes.split(",")]
    if any(not 0 <= w < 50 for w in shares):
        raise SystemExit("--writes: percentages from 0 to under 50")
    return {
        "db": args.db,
        "clusters": scales,
        "workers": args.workers,
        "writes": shares,
        "users": args.users,
        "slice": args.slice,
        "slices": args.slices,
        "warmup": args.warmup,
        "connections": connections,
        "threads": args.threads,
        "smoke": args.smoke,
        "redis": args.redis,
        "only": args.only,
        "page_cache": args.page_cache,
        "wrk_timeout_s": 30,
    }


def say(text: str = "") -> None:
    print(text, flush=True)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


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


def _empty_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _page_entry(item: pages.Resolved) -> dict:
    page = item.page
    return {
        "key": page.key,
        "title": page.title,
        "path": item.path,
        "endpoint": page.endpoint,
        "expected_status": page.expected_status,
        "token": page.token,
        "target": page.target,
        "p95_target_ms": page.p95_target_ms,
        "first_visit_target_ms": page.first_visit_target_ms,
        "status": "skipped" if item.skipped else "ok",
        "notes": [item.skipped] if item.skipped else [],
        "slices": [],
    }


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

        # Queries per request and the first visit's render time, in-process, on the same
        # database and as the coordinator, nothing cached.
        client = queries.signed_in_client(app, region.coordinator_email, region.password)
        emails = writes.users_of(app, region, settings["users"])
        prepared = writes.prepare(app, region, emails)
        authorization = prepared[region.coordinator_email]["authorization"]
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
                samples=3 if settings["smoke"] else 11,
            )
            entries[r.page.key]["in_process"] = counted
            entries[r.page.key]["queries"] = counted.get("queries")
            entries[r.page.key]["first_visit_ms"] = counted.get("in_process_ms")
            if counted.get("error"):
                entries[r.page.key]["status"] = "FAIL"
                entries[r.page.key]["notes"].append(f"in-process: {counted['error']}")
        with app.app_context():
            sa.session.remove()
            sa.engine.dispose()

        served = dict(env)
        if settings.get("redis"):
            _empty_redis(settings["redis"])
            served["PORTAL_REDIS_URL"] = settings["redis"]
        srv = server.Server(
            server.process_env(served), settings["workers"], db.folder / "gunicorn.log"
        )
        note(f"starting: {' '.join(srv.command[2:])}")
        srv.start()
        users = writes.writers_for(srv.port, emails, prepared, region.password)
        active = [r for r in resolved if not r.skipped and entries[r.page.key]["status"] == "ok"]
        readers = _readers(srv, active, entries, users)
        write_load = writes.WriteLoad(srv.port, region.tenant_slug, users)
        mixes = []
        for percent in settings["writes"]:
            note(f"-- {percent:g} % writes, {len(users)} signed-in users")
            mix_entries = {
                key: {**entry, "notes": list(entry["notes"]), "slices": []}
                for key, entry in entries.items()
            }
            started = time.monotonic()
            write_load.start(percent)
            hello_slices = slices.measure_mix(
                srv,
                active,
                mix_entries,
                readers,
                {**settings, "slice_writes": percent},
                write_load,
                note,
            )
            done = write_load.stop()
            seconds = time.monotonic() - started
            if pages.HELLO in mix_entries:
                slices.hello_entry(mix_entries[pages.HELLO], hello_slices)
            measured = [mix_entries[r.page.key] for r in resolved]
            done["seconds"] = round(seconds, 1)
            done["per_second"] = round(done["writes"] / seconds, 2) if seconds else 0
            page_rps = [p["rps"] for p in measured if p.get("rps") and p["key"] != pages.HELLO]
            if page_rps and done["writes"]:
                mean = sum(page_rps) / len(page_rps)
                done["share_achieved"] = round(done["per_second"] / (done["per_second"] + mean), 5)
            if done["problems"]:
                note("write problems: " + "; ".join(done["problems"]))
            mixes.append(
                {
                    "writes_percent": percent,
                    "writes": done,
                    "pages": [report.verdicts(p, clusters) for p in measured],
                }
            )
        return {
            "clusters": clusters,
            "database": database,
            "region": region.as_dict(),
            "server_command": " ".join(
                ["gunicorn", *(a for a in srv.command[3:] if not a.startswith("--chdir"))]
            ),
            "users": [u.email for u in users],
            "worker_pids_at_end": srv.worker_pids(),
            "mixes": mixes,
            # The first mix (normally without writes) stands for the scale in comparisons.
            "pages": mixes[0]["pages"] if mixes else [],
        }
    finally:
        if srv is not None:
            srv.stop()
        if settings.get("redis"):
            _empty_redis(settings["redis"])
        if app is not None:
            from portal.extensions import db as sa

            with app.app_context():
                sa.session.remove()
                sa.engine.dispose()
        db.drop()


def _readers(srv, active, entries, users) -> dict[str, dict]:
    """Who reads each page: the users who get its expected status (their cookies, or for an
    API operation their tokens); the ETag revisit: the coordinator with the page's ETag."""
    readers: dict[str, dict] = {}
    for r in active:
        if r.page.key == pages.HELLO:
            continue
        entry = entries[r.page.key]
        cookies, tokens = [], []
        for user in users[:1] if r.page.etag_revisit else users:
            headers = {"Authorization": user.authorization} if r.page.token else {}
            status, got, _ = user.browser.get(r.path, headers)
            if r.page.etag_revisit:
                etag = got.get("etag", "")
                status, _, _ = user.browser.get(r.path, {"If-None-Match": etag})
                readers[r.page.key] = {"cookie": user.browser.cookie_header, "etag": etag}
            if status != r.page.expected_status:
                continue
            (tokens if r.page.token else cookies).append(
                user.authorization if r.page.token else user.browser.cookie_header
            )
        if r.page.etag_revisit:
            if status != r.page.expected_status:
                readers.pop(r.page.key, None)
        elif cookies or tokens:
            readers[r.page.key] = {"cookie": "\n".join(cookies), "authorization": "\n".join(tokens)}
        readers_count = 1 if r.page.etag_revisit else len(cookies) + len(tokens)
        entry["readers"] = readers_count
        if r.page.key not in readers:
            entry["status"] = "FAIL"
            entry["notes"].append(f"no signed-in user got {r.page.expected_status}")
        elif readers_count < len(users) and not r.page.etag_revisit:
            entry["notes"].append(
                f"read by {readers_count} of {len(users)} users (the others may not)"
            )
    return readers


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
        say(
            "Warning: the machine is busy; absolute figures will be noisy (the shares of"
            " /hello, measured in alternating slices, much less so)."
        )
    say("Settings: " + ", ".join(f"{k}={v}" for k, v in settings.items() if k != "only" or v))
    began = time.monotonic()
    result = {
        "format": 2,
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
        f"{s['clusters']}/{m['writes_percent']:g}%:{p['key']}"
        for s in result["scales"]
        for m in s["mixes"]
        for p in m["pages"]
        if p["status"] == "FAIL"
    ] + [
        f"{s['clusters']}/{m['writes_percent']:g}%: writes ({'; '.join(m['writes']['problems'])})"
        for s in result["scales"]
        for m in s["mixes"]
        if m["writes"]["problems"]
    ]
    result["misses"] = report.misses(result)
    result["ok"] = not failed
    name = (
        f"{started.strftime('%Y%m%d-%H%M%S')}-{settings['db']}-"
        + "-".join(str(c) for c in settings["clusters"])
        + "-writes-"
        + "-".join(f"{w:g}" for w in settings["writes"])
        + ("-smoke" if settings["smoke"] else "")
    )
    paths = report.write(result, args.out, name)
    say("")
    say(report.markdown(result))
    say("Written: " + ", ".join(str(p) for p in paths.values()))
    say("")
    say("Targets (issue 18):")
    for line in result["misses"] or ["every target met"]:
        say("  " + line)
    if failed:
        say(f"FAILED pages (errors, not slowness): {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
