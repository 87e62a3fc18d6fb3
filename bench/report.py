"""Medians over the runs, the targets, and the outputs: JSON, a Markdown table, an SVG chart."""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path

from bench.pages import HELLO

GROWTH_LIMIT = 1.3  # a page's time per request at the large scale / at the small one
FEW_SAMPLES = 30  # fewer requests than this in a slice: the percentiles mean little


def verdicts(page: dict, clusters: int) -> dict:
    """The page's figures against the targets of issue 18: share of /hello, p95 under load,
    and the first visit's render p50 (30 ms at 500 clusters, 40 ms at 2,000)."""
    if page["status"] != "ok":
        return page
    target = page.get("target")
    page["meets_target"] = (
        None if target is None or page.get("ratio") is None else page["ratio"] >= target
    )
    p95 = page.get("p95_target_ms")
    page["meets_p95"] = None if p95 is None or page.get("p95_ms") is None else page["p95_ms"] < p95
    first = page.get("first_visit_target_ms")
    if first and page.get("first_visit_ms") is not None:
        limit = first[0] if clusters <= 500 else first[1]
        page["first_visit_limit_ms"] = limit
        page["meets_first_visit"] = page["first_visit_ms"] < limit
    fewest = min((s["requests"] for s in page.get("slices", [])), default=None)
    if fewest is not None and fewest < FEW_SAMPLES:
        page["notes"].append(
            f"only {fewest} requests in a slice: its percentiles rest on few samples"
        )
    return page


def misses(result: dict) -> list[str]:
    """Every target missed, one line each, e.g. 'programme: 4.1 % of /hello (target 10 %) MISS'."""
    lines = []
    for scale in result["scales"]:
        for mix in scale.get("mixes", []):
            where = f"{scale['clusters']} clusters, {mix['writes_percent']:g} % writes"
            for page in mix["pages"]:
                name = f"{page['key']} ({where})"
                if page["status"] == "FAIL":
                    lines.append(f"{name}: FAILED ({'; '.join(page['notes'][:3])})")
                if page.get("meets_target") is False:
                    lines.append(
                        f"{name}: {_pct(page['ratio'])} of /hello "
                        f"(target {page['target'] * 100:g} %) MISS"
                    )
                if page.get("meets_p95") is False:
                    lines.append(
                        f"{name}: p95 {page['p95_ms']:.1f} ms "
                        f"(target under {page['p95_target_ms']:g} ms) MISS"
                    )
                if page.get("meets_first_visit") is False and mix is scale["mixes"][0]:
                    lines.append(
                        f"{page['key']} ({scale['clusters']} clusters): first visit p50 "
                        f"{page['first_visit_ms']:.1f} ms "
                        f"(target under {page['first_visit_limit_ms']:g} ms) MISS"
                    )
    for row in result.get("scaling", []):
        if row.get("growth") is not None and row["growth"] > GROWTH_LIMIT:
            lines.append(f"{row['key']}: growth {row['growth']:.2f} (target ≤ {GROWTH_LIMIT}) MISS")
        if row.get("result") != "skipped" and not row.get("same_queries", True):
            lines.append(f"{row['key']}: queries changed with the data size MISS")
    return lines


def scaling(small: dict, large: dict) -> list[dict]:
    """Which pages grow with data: each page at the small and at the large scale."""
    rows = []
    large_pages = {p["key"]: p for p in large["pages"]}
    for page in small["pages"]:
        other = large_pages.get(page["key"])
        if other is None or "ok" not in (page["status"], other["status"]):
            rows.append({"key": page["key"], "title": page["title"], "result": "skipped"})
            continue
        # Growth: the first visit's render (nothing cached) at the large over the small scale.
        growth = (
            round(other["first_visit_ms"] / page["first_visit_ms"], 2)
            if page.get("first_visit_ms") and other.get("first_visit_ms")
            else None
        )
        rps_drop = (
            round(page["rps"] / other["rps"], 2) if page.get("rps") and other.get("rps") else None
        )
        same_queries = page.get("queries") == other.get("queries")
        ok = page["status"] == other["status"] == "ok"
        if page["key"] == HELLO:
            growth = None  # /hello is measured only beside the pages
        passed = ok and same_queries and (growth is None or growth <= GROWTH_LIMIT)
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
    """A share in percent, cut (not rounded) to a tenth: a share just under a target never
    shows as reaching it (9.99 % is "9.9 %", not "10.0 %")."""
    if value is None:
        return "–"
    return f"{math.floor(round(value * 1000, 6)) / 10:.1f} %"


def _verdict(page: dict) -> str:
    if page["status"] == "skipped":
        return "skipped"
    if page["status"] != "ok":
        return "**FAIL**"
    checks = [page.get(k) for k in ("meets_target", "meets_p95", "meets_first_visit")]
    if all(c is None for c in checks):
        return "yardstick" if page["key"] == HELLO else "–"
    return "pass" if all(c is not False for c in checks) else "**MISS**"


def _spread(page: dict) -> str:
    if page.get("ratio_min") is None:
        return "–"
    return (
        f"{page['ratio_min'] * 100:.1f}–{page['ratio_max'] * 100:.1f} "
        f"(IQR {page['ratio_q1'] * 100:.1f}–{page['ratio_q3'] * 100:.1f})"
    )


def _targets(page: dict) -> str:
    parts = []
    if page.get("target"):
        parts.append(f"≥ {page['target'] * 100:g} %")
    if page.get("p95_target_ms"):
        parts.append(f"p95 < {page['p95_target_ms']:g}")
    if page.get("first_visit_limit_ms"):
        parts.append(f"first < {page['first_visit_limit_ms']:g}")
    return ", ".join(parts) or "–"


def markdown(result: dict) -> str:
    m, s = result["machine"], result["settings"]
    lines = [
        f"# Benchmark {result['started_at']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, {m['os']}; "
        f"Python {m['python']}, Flask {m['flask']}, SQLAlchemy {m['sqlalchemy']}, "
        f"gunicorn {m['gunicorn']}, {m['wrk']}; code {m['git']}; "
        f"load average at start {m['load_average_at_start']}, at end "
        f"{m.get('load_average_at_end')}.",
        "",
        f"Settings: {s['db']} database, gunicorn {s['workers']} sync workers on 127.0.0.1, "
        f"{s['users']} signed-in users reading in turn over wrk {s['connections']} connections; "
        f"each page: {s['warmup']} s warm-up, then {s['slices']} pairs of {s['slice']} s slices "
        "(page, then /hello, on the same server). Share of /hello: the median of the slices' "
        "ratios (spread: min–max and interquartile range); req/s, p50, p95: medians over the "
        "slices (p95 max: the worst slice). First visit: the page rendered with no page cached, "
        "in-process, one request at a time (p50 of the renders after its first: what the "
        "process keeps between requests, such as rule verdicts and round values, is warm, as "
        "after an action's write); first render: its first render in the process (those keeps "
        "cold for it, as after a round's write); queries: counted on a render. Page cache "
        f"{s.get('page_cache', 'on')}"
        + (", shared through Redis." if s.get("redis") else ", each worker its own.")
        + (" Smoke scale (tiny data)." if s.get("smoke") else ""),
        "",
    ]
    for scale in result["scales"]:
        region = scale["region"]
        for mix in scale.get("mixes", []):
            w = mix["writes"]
            lines += [
                f"## {scale['clusters']} clusters ({scale['database']}), "
                f"{mix['writes_percent']:g} % writes",
                "",
                f"Region: {sum(region['rows'].values()):,} rows, built in {region['seconds']} s; "
                f"server: `{scale['server_command']}`. Writes: {w['writes']:,} in {w['seconds']} s "
                f"({w['per_second']}/s, share achieved {_pct(w.get('share_achieved'))}) by "
                f"{w['users']} users: "
                + (
                    ", ".join(
                        f"{kind} {k['count']} (p50 {k['p50_ms']} ms, p95 {k['p95_ms']} ms; "
                        + " ".join(f"{st}×{n}" for st, n in sorted(k["statuses"].items()))
                        + ")"
                        for kind, k in sorted(w["kinds"].items())
                    )
                    or "none"
                )
                + ".",
                "",
                "| page | share of /hello | spread of slices % | req/s | p50 ms | p95 ms "
                "| p95 max ms | first visit ms | first render ms | queries | target | result |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
            ]
            for page in mix["pages"]:
                hello = page["key"] == HELLO
                lines.append(
                    "| "
                    + " | ".join(
                        [
                            page["title"],
                            "100 %" if hello else _pct(page.get("ratio")),
                            "–" if hello else _spread(page),
                            _num(page.get("rps")),
                            _num(page.get("p50_ms")),
                            _num(page.get("p95_ms")),
                            _num(page.get("p95_max_ms")),
                            _num(page.get("first_visit_ms")),
                            _num(page.get("first_render_ms")),
                            _num(page.get("queries")),
                            _targets(page),
                            _verdict(page),
                        ]
                    )
                    + " |"
                )
            notes = [f"- {p['title']}: {n}" for p in mix["pages"] for n in p.get("notes", [])]
            if w["problems"]:
                notes += [f"- writes: {p}" for p in w["problems"]]
            if notes:
                lines += ["", "Notes:", *notes]
            lines.append("")
        repeated = [
            f"- {page['title']}: {r['count']}× `{r['statement'][:110]}`"
            for page in scale["pages"]
            for r in (page.get("in_process") or {}).get("repeated", [])
        ]
        if repeated:
            lines += ["Statements run more than twice in one request:", *repeated, ""]
    if result.get("misses") is not None:
        lines += ["## Targets of issue 18", ""]
        lines += [f"- {line}" for line in result["misses"]] or ["- every target met"]
        lines.append("")
    if result.get("scaling"):
        rows = result["scaling"]
        first = next((r for r in rows if "small_clusters" in r), None)
        if first:
            small, large = first["small_clusters"], first["large_clusters"]
            lines += [
                f"## Scaling: {small} vs {large} clusters",
                "",
                f"Growth: the first visit's render p50 at {large} / at {small} (target ≤ "
                f"{GROWTH_LIMIT}); queries per request must not change. p50: under load, "
                "the first mix; KB: the page's size.",
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
    scales = [
        {"clusters": f"{s['clusters']} clusters, {m['writes_percent']:g} % writes", **m}
        for s in result["scales"]
        for m in s.get("mixes") or [{"writes_percent": 0, "pages": s["pages"]}]
    ]
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
            f'<rect x="{10 + 210 * i}" y="32" width="10" height="10" fill="{COLOURS[i % 4]}"/>'
            f'<text x="{24 + 210 * i}" y="41">{scale["clusters"]}</text>'
        )
    out.append(
        f'<line x1="{10 + 210 * len(scales)}" y1="37" x2="{22 + 210 * len(scales)}" y2="37" '
        f'stroke="#c0392b" stroke-width="2"/><text x="{26 + 210 * len(scales)}" y="41">target</text>'
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
