"""Medians over the runs, the targets, and the outputs: JSON, a Markdown table, an SVG chart."""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from statistics import median

from bench.pages import HELLO

GROWTH_LIMIT = 1.5  # a page's time per request at the large scale / at the small one
FEW_SAMPLES = 30  # fewer requests than this in a run: the percentiles mean little


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 3) if present else None


def summarise(page: dict) -> dict:
    """The quoted figures of a page: the median over its runs (peak memory: the largest)."""
    runs = page.get("runs", [])
    if page["status"] == "skipped" or not runs:
        return page
    for key in ("rps", "p50_ms", "p95_ms", "p99_ms"):
        page[key] = _median([r.get(key) for r in runs])
    page["ratio"] = _median([r.get("ratio") for r in runs])
    peaks = [r["peak_mb"] for r in runs if r.get("peak_mb") is not None]
    page["peak_mb"] = max(peaks) if peaks else None
    counts = [r["requests"] for r in runs if "requests" in r]
    fewest = min(counts) if counts else None
    if fewest is not None and fewest < FEW_SAMPLES:
        page.setdefault("notes", []).append(
            f"only {fewest} request{'s' if fewest != 1 else ''} in a run: its percentiles rest"
            " on few samples"
            " (a longer --duration helps)"
        )
    problems = [p for r in runs for p in r.get("problems", [])]
    if problems:
        page["status"] = "FAIL"
        page.setdefault("notes", []).extend(sorted(set(problems)))
    target = page.get("target")
    page["meets_target"] = (
        None if target is None or page["ratio"] is None else page["ratio"] >= target
    )
    return page


def scaling(small: dict, large: dict) -> list[dict]:
    """Which pages grow with data: each page at the small and at the large scale."""
    rows = []
    large_pages = {p["key"]: p for p in large["pages"]}
    for page in small["pages"]:
        other = large_pages.get(page["key"])
        if other is None or "ok" not in (page["status"], other["status"]):
            rows.append({"key": page["key"], "title": page["title"], "result": "skipped"})
            continue
        growth = (
            round(other["p50_ms"] / page["p50_ms"], 2)
            if page.get("p50_ms") and other.get("p50_ms")
            else None
        )
        rps_drop = (
            round(page["rps"] / other["rps"], 2) if page.get("rps") and other.get("rps") else None
        )
        same_queries = page.get("queries") == other.get("queries")
        ok = page["status"] == other["status"] == "ok"
        passed = ok and same_queries and growth is not None and growth <= GROWTH_LIMIT
        rows.append(
            {
                "key": page["key"],
                "title": page["title"],
                "small_clusters": small["clusters"],
                "large_clusters": large["clusters"],
                "p50_small_ms": page.get("p50_ms"),
                "p50_large_ms": other.get("p50_ms"),
                "rps_small": page.get("rps"),
                "rps_large": other.get("rps"),
                "growth": growth,
                "rps_drop": rps_drop,
                "single_small_ms": (page.get("in_process") or {}).get("in_process_ms"),
                "single_large_ms": (other.get("in_process") or {}).get("in_process_ms"),
                "kb_small": _kb(page),
                "kb_large": _kb(other),
                "queries_small": page.get("queries"),
                "queries_large": other.get("queries"),
                "same_queries": same_queries,
                "result": "pass" if passed else ("FAIL" if not ok else "grows"),
            }
        )
    return rows


def _kb(page: dict) -> float | None:
    size = (page.get("in_process") or {}).get("bytes")
    return None if size is None else round(size / 1024, 1)


# --- Markdown ---------------------------------------------------------------------------------


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _pct(value) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _verdict(page: dict) -> str:
    if page["status"] == "skipped":
        return "skipped"
    if page["status"] != "ok":
        return "**FAIL**"
    if page.get("meets_target") is None:
        return "yardstick" if page["key"] == HELLO else "–"
    return "pass" if page["meets_target"] else "**below target**"


def markdown(result: dict) -> str:
    m, s = result["machine"], result["settings"]
    lines = [
        f"# Benchmark {result['started_at']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['os']}; "
        f"Python {m['python']}, Flask {m['flask']}, SQLAlchemy {m['sqlalchemy']}, "
        f"gunicorn {m['gunicorn']}, {m['wrk']}; code {m['git']}; "
        f"load average at start {m['load_average_at_start']}.",
        "",
        f"Settings: {s['db']} database, gunicorn {s['workers']} sync workers on 127.0.0.1, "
        f"wrk {s['threads']} thread(s) × {s['connections']} connections, "
        f"{s['warmup']} s warm-up then {s['duration']} s per page per run, "
        f"{s['runs']} run(s) (median quoted; ratio: median of each run's page req/s over "
        f"/hello's in the same run), signed in as the coordinator; page cache "
        f"{s.get('page_cache', 'on')} ("
        + (
            "a revisit is served from the cache until the data changes"
            if s.get("page_cache", "on") == "on"
            else "every request renders the page"
        )
        + "). Queries/req: counted in-process on a rendering request."
        + (" Smoke scale (tiny data)." if s.get("smoke") else ""),
        "",
    ]
    for scale in result["scales"]:
        region = scale["region"]
        lines += [
            f"## {scale['clusters']} clusters ({scale['database']})",
            "",
            f"Region: {sum(region['rows'].values()):,} rows, built in {region['seconds']} s; "
            f"server: `{scale['server_command']}`.",
            "",
            "| page | req/s | p50 ms | p95 ms | p99 ms | queries/req | KB | peak MB/worker "
            "| vs /hello | target | result |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for page in scale["pages"]:
            target = page.get("target")
            lines.append(
                "| "
                + " | ".join(
                    [
                        f"{page['title']}",
                        _num(page.get("rps")),
                        _num(page.get("p50_ms")),
                        _num(page.get("p95_ms")),
                        _num(page.get("p99_ms")),
                        _num(page.get("queries")),
                        _num(_kb(page)),
                        _num(page.get("peak_mb")),
                        _pct(page.get("ratio")) if page["key"] != HELLO else "100 %",
                        f"≥ {target * 100:.0f} %" if target else "–",
                        _verdict(page),
                    ]
                )
                + " |"
            )
        notes = [
            f"- {page['title']}: {note}"
            for page in scale["pages"]
            for note in page.get("notes", [])
        ]
        repeated = [
            f"- {page['title']}: {r['count']}× `{r['statement'][:110]}`"
            for page in scale["pages"]
            for r in (page.get("in_process") or {}).get("repeated", [])
        ]
        if notes:
            lines += ["", "Notes:", *notes]
        if repeated:
            lines += ["", "Statements run more than twice in one request:", *repeated]
        lines.append("")
    if result.get("scaling"):
        rows = result["scaling"]
        first = next((r for r in rows if "small_clusters" in r), None)
        if first:
            small, large = first["small_clusters"], first["large_clusters"]
            lines += [
                f"## Scaling: {small} vs {large} clusters",
                "",
                f"Growth: p50 under load at {large} / at {small} (target ≤ {GROWTH_LIMIT}); "
                "queries per request must not change. Single request: in-process, one at a "
                "time (median of 3); KB: the page's size.",
                "",
                f"| page | p50 ms ({small}) | p50 ms ({large}) | growth | single request ms "
                f"({small} → {large}) | KB ({small} → {large}) | queries ({small} → {large}) "
                "| result |",
                "|---|---:|---:|---:|---:|---:|---:|---|",
            ]
            for r in rows:
                if "small_clusters" not in r:
                    lines.append(f"| {r['title']} | | | | | | | {r['result']} |")
                    continue
                verdict = "pass" if r["result"] == "pass" else f"**{r['result']}**"
                lines.append(
                    f"| {r['title']} | {_num(r['p50_small_ms'])} | {_num(r['p50_large_ms'])} "
                    f"| {_num(r['growth'], 2)} "
                    f"| {_num(r['single_small_ms'])} → {_num(r['single_large_ms'])} "
                    f"| {_num(r['kb_small'])} → {_num(r['kb_large'])} "
                    f"| {_num(r['queries_small'])} → {_num(r['queries_large'])} | {verdict} |"
                )
            lines.append("")
    return "\n".join(lines)


# --- SVG ----------------------------------------------------------------------------------------

COLOURS = ("#0b6e4f", "#d08c2f", "#3b6fb6", "#8e44ad")


def svg(result: dict) -> str:
    """Bars of each page's requests per second as a share of /hello's, one bar per scale, with
    the page's target marked."""
    scales = result["scales"]
    keys: list[tuple[str, str, float | None]] = []
    for scale in scales:
        for page in scale["pages"]:
            if page["key"] != HELLO and page["key"] not in [k for k, _, _ in keys]:
                keys.append((page["key"], page["title"], page.get("target")))
    ratios = [p.get("ratio") or 0 for s in scales for p in s["pages"] if p["key"] != HELLO]
    step = 0.05 if max([0.25, *ratios]) <= 0.5 else 0.1 if max(ratios) <= 1.2 else 0.25
    top = math.ceil(max([0.25, *ratios]) * 1.08 / step) * step
    ticks = round(top / step)
    label_w, plot_w, bar_h, gap = 230, 460, 14, 12
    group_h = bar_h * len(scales) + gap
    height = 70 + group_h * len(keys) + 30
    width = label_w + plot_w + 90

    def x(ratio: float) -> float:
        return label_w + plot_w * min(ratio, top) / top

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">Requests per second as a share '
        f"of /hello ({escape(result['settings']['db'])}, {result['settings']['workers']} "
        f"workers)</text>",
    ]
    for i, scale in enumerate(scales):
        out.append(
            f'<rect x="{10 + 150 * i}" y="32" width="10" height="10" fill="{COLOURS[i % 4]}"/>'
            f'<text x="{24 + 150 * i}" y="41">{scale["clusters"]} clusters</text>'
        )
    out.append(
        f'<line x1="{10 + 150 * len(scales)}" y1="37" x2="{22 + 150 * len(scales)}" y2="37" '
        f'stroke="#c0392b" stroke-width="2"/><text x="{26 + 150 * len(scales)}" y="41">target</text>'
    )
    y0 = 60
    for tick in range(0, ticks + 1):
        ratio = step * tick
        out.append(
            f'<line x1="{x(ratio):.1f}" y1="{y0 - 4}" x2="{x(ratio):.1f}" '
            f'y2="{y0 + group_h * len(keys)}" stroke="#eee"/>'
            f'<text x="{x(ratio):.1f}" y="{y0 + group_h * len(keys) + 14}" '
            f'text-anchor="middle" fill="#666">{ratio * 100:.0f}%</text>'
        )
    for row, (key, title, target) in enumerate(keys):
        y = y0 + row * group_h
        out.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * len(scales) / 2 + 4}" '
            f'text-anchor="end">{escape(title)}</text>'
        )
        for i, scale in enumerate(scales):
            page = next((p for p in scale["pages"] if p["key"] == key), None)
            by = y + i * bar_h
            if page is None or page.get("ratio") is None:
                reason = (
                    "skipped" if page is None or page["status"] == "skipped" else page["status"]
                )
                out.append(f'<text x="{label_w + 4}" y="{by + 11}" fill="#999">{reason}</text>')
                continue
            colour = COLOURS[i % 4] if page["status"] == "ok" else "#c0392b"
            out.append(
                f'<rect x="{label_w}" y="{by + 1}" width="{x(page["ratio"]) - label_w:.1f}" '
                f'height="{bar_h - 2}" fill="{colour}"/>'
                f'<text x="{x(page["ratio"]) + 4:.1f}" y="{by + 11}">'
                f"{page['ratio'] * 100:.1f}%</text>"
            )
        if target:
            out.append(
                f'<line x1="{x(target):.1f}" y1="{y - 2}" x2="{x(target):.1f}" '
                f'y2="{y + bar_h * len(scales) + 2}" stroke="#c0392b" stroke-width="2"/>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(result: dict, out_dir: Path, name: str) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / f"{name}.json",
        "md": out_dir / f"{name}.md",
        "svg": out_dir / f"{name}.svg",
    }
    paths["json"].write_text(json.dumps(result, indent=2, default=str) + "\n")
    paths["md"].write_text(markdown(result))
    paths["svg"].write_text(svg(result))
    return paths
