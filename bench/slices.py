"""Each page measured in short slices alternating with /hello on the same server, so that what
else the machine does slows both alike and their ratio survives a noisy machine.

A page: a warm-up, then ``slices`` pairs of (page for ``slice`` seconds, /hello for ``slice``
seconds). Each pair gives one ratio (the page's requests per second over /hello's); the page's
share of /hello is the median of those ratios, its spread their minimum, quartiles and maximum.
While the writes run, their rate follows the page's requests per second of the last slice.
"""

from __future__ import annotations

from contextlib import suppress
from statistics import median, quantiles

from bench import load
from bench.pages import HELLO
from bench.server import request


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def _drain(srv) -> None:
    """Wait until the requests the last slice left queued are served: wrk stops sending when
    its slice ends, but a sync worker still answers what is queued, and that backlog (up to
    a second of a slow page) must not fall into the next slice. One /hello, queued behind
    them, returns when they are done."""
    with suppress(OSError):
        request(srv.port, "GET", "/hello")


def _wrk(srv, path: str, seconds: int, who: dict, settings: dict, expect: int) -> dict:
    _drain(srv)
    return load.run_wrk(
        srv.base + path,
        seconds=seconds,
        cookie=who.get("cookie", ""),
        authorization=who.get("authorization", ""),
        connections=settings["connections"],
        threads=settings["threads"],
        expect=expect,
        if_none_match=who.get("etag"),
        timeout_s=settings["wrk_timeout_s"],
    )


def _slice_of(measured: dict) -> dict:
    """One slice's figures; a slice in which no request completed (each took longer than the
    slice) counts as 0 requests per second, not as a failure, and has no latencies."""
    problems = [p for p in load.problems(measured) if p != "no request completed"]
    return {
        "rps": round(measured["rps"], 2),
        "p50_ms": round(measured["p50_ms"], 2),
        "p95_ms": round(measured["p95_ms"], 2),
        "p99_ms": round(measured["p99_ms"], 2),
        "requests": measured["requests"],
        "problems": problems,
        "empty": measured["requests"] == 0,
        "unexpected_status": measured["unexpected_status"],
    }


def measure_mix(srv, active, entries: dict, readers: dict, settings: dict, writes, note) -> dict:
    """Every active page (not /hello itself) in alternating slices; ``entries`` get each page's
    slices; returns /hello's slices (all of them, over every page)."""
    hello = next(r for r in active if r.page.key == HELLO)
    hello_slices: list[dict] = []
    pids = srv.worker_pids()
    quiet = settings["slice_writes"] == 0
    for r in active:
        if r.page.key == HELLO:
            continue
        entry = entries[r.page.key]
        who = readers.get(r.page.key)
        if who is None:
            continue
        if settings["warmup"]:
            warm = _wrk(srv, r.path, settings["warmup"], who, settings, r.page.expected_status)
            writes.reads_per_s = warm["rps"]
        # Without writes, requests a warm-up left in flight must not run into the slices.
        # With writes the workers are never idle, so waiting for calm only lost two seconds
        # a page; the drain before each slice (``_wrk``) serves what is still queued.
        if quiet and settings["warmup"]:
            srv.wait_idle(timeout_s=120)
        srv.reset_peaks()
        for n in range(settings["slices"]):
            page = _wrk(srv, r.path, settings["slice"], who, settings, r.page.expected_status)
            writes.reads_per_s = page["rps"]
            base = _wrk(srv, hello.path, settings["slice"], {}, settings, 200)
            one, yard = _slice_of(page), _slice_of(base)
            if r.page.etag_revisit and not quiet:
                # A write changes the page: its ETag revisit then answers 200, rightly.
                one["changed_since_etag"] = page["unexpected_status"]
                one["problems"] = [p for p in one["problems"] if "were not 304" not in p]
            one["hello_rps"] = yard["rps"]
            one["ratio"] = round(page["rps"] / base["rps"], 4) if base["rps"] else None
            entry["slices"].append(one)
            hello_slices.append(yard)
            if n == 0:
                entry["wrk_command"] = page["command"]
        entry["peak_mb"] = srv.peak_mb()
        now_pids = srv.worker_pids()
        if now_pids != pids:
            entry["notes"].append(f"gunicorn workers changed {pids} -> {now_pids} (one died)")
            entry["status"] = "FAIL"
            pids = now_pids
        summarise(entry)
        flag = ("  FAIL: " + "; ".join(entry["notes"])) if entry["status"] == "FAIL" else ""
        if entry.get("ratio") is None:
            note(f"  {r.page.key:<16} no ratio (/hello answered nothing){flag}")
            continue
        note(
            f"  {r.page.key:<16} {entry['rps']:8.1f} req/s  share {entry['ratio'] * 100:5.1f} %"
            f" (slices {entry['ratio_min'] * 100:.1f}-{entry['ratio_max'] * 100:.1f} %)"
            f"  p50 {entry['p50_ms']:7.1f} ms  p95 {entry['p95_ms']:7.1f} ms{flag}"
        )
    return hello_slices


def summarise(entry: dict) -> dict:
    """The quoted figures of a page from its slices: medians (latency: the median of the
    slices' percentiles, and the worst slice's p95), the ratio's spread."""
    slices = entry.get("slices") or []
    if not slices:
        return entry
    entry["rps"] = round(median(s["rps"] for s in slices), 2)
    timed = [s for s in slices if not s.get("empty")] or slices
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        entry[key] = round(median(s[key] for s in timed), 2)
    entry["p95_max_ms"] = max(s["p95_ms"] for s in timed)
    empty = sum(1 for s in slices if s.get("empty"))
    if empty:
        entry["notes"].append(
            f"{empty} of {len(slices)} slices completed no request (each took longer than"
            " the slice): counted as 0 req/s, left out of the latencies"
        )
    entry["requests"] = sum(s["requests"] for s in slices)
    ratios = [s["ratio"] for s in slices if s.get("ratio") is not None]
    if ratios:
        q1, q3 = _quartiles(ratios)
        entry.update(
            ratio=round(median(ratios), 4),
            ratio_min=round(min(ratios), 4),
            ratio_max=round(max(ratios), 4),
            ratio_q1=round(q1, 4),
            ratio_q3=round(q3, 4),
        )
    problems = sorted({p for s in slices for p in s["problems"]})
    if problems:
        entry["status"] = "FAIL"
        entry["notes"].extend(problems)
    return entry


def hello_entry(entry: dict, hello_slices: list[dict]) -> dict:
    """/hello's row: every slice it ran beside a page."""
    for s in hello_slices:
        s["ratio"] = 1.0
    entry["slices"] = hello_slices
    return summarise(entry)
