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
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import load, machine, report, server
from bench.console import note, say
from bench.scale import measure_scale

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
    p.add_argument(
        "--aimed-every",
        type=int,
        default=0,
        help="one action in this many aims at an indicator (the work the improvement "
        "summaries and the scorecard's forum over time measure) [0: none]",
    )
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
        "aimed_every": args.aimed_every,
        "wrk_timeout_s": 30,
    }


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
