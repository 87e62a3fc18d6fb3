"""Geometry of timeline pictures (Gantt-like bars and milestone marks), drawn as SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

STATUS_COLOURS = {
    "planned": "#5b6770",
    "in_progress": "#0072B2",
    "done": "#1e6b34",
    "blocked": "#b3261e",
    "cancelled": "#9aa3ab",
}


@dataclass
class Bar:
    label: str
    x: float
    width: float
    y: float
    colour: str
    url: str
    note: str  # for the title tooltip
    start: date | None = None
    end: date | None = None
    status: str = ""


@dataclass
class Mark:
    label: str
    x: float
    kind: str
    url: str
    note: str
    day: date | None = None


@dataclass
class Tick:
    x: float
    label: date


@dataclass
class Timeline:
    width: float
    height: float
    left: float
    bars: list[Bar]
    marks: list[Mark]
    ticks: list[Tick]
    today_x: float | None
    row_height: float


def build(
    start: date,
    end: date,
    items: list[dict],
    marks: list[dict],
    today: date,
    *,
    width: float = 900,
    left: float = 240,
    row_height: float = 26,
) -> Timeline:
    """items: {label, start, end, status, url, note}; marks: {label, day, kind, url, note}."""
    days = [d for i in items for d in (i.get("start"), i.get("end")) if d] + [
        m["day"] for m in marks
    ]
    start = min([start, *days]) if days else start
    end = max([end, *days]) if days else end
    if end <= start:
        end = start + timedelta(days=30)
    span = (end - start).days or 1
    scale = (width - left - 16) / span

    def x_of(day: date) -> float:
        return left + (day - start).days * scale

    top = 34 if marks else 18
    bars = []
    for row, item in enumerate(items):
        first = item.get("start") or item.get("end") or start
        last = item.get("end") or first
        if last < first:
            first, last = last, first
        bars.append(
            Bar(
                label=item["label"],
                x=x_of(first),
                width=max((last - first).days * scale, 4),
                y=top + row * row_height,
                colour=STATUS_COLOURS.get(item.get("status", ""), "#5b6770"),
                url=item.get("url", ""),
                note=item.get("note", ""),
                start=item.get("start"),
                end=item.get("end"),
                status=item.get("status", ""),
            )
        )
    ticks = []
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            ticks.append(Tick(x_of(month), month))
        month = date(month.year + (month.month // 12), month.month % 12 + 1, 1)
    if len(ticks) > 14:  # a long period: label every few months only
        step = -(-len(ticks) // 12)
        ticks = ticks[::step]
    # Room on the right for the last month's label and a mark on the last day.
    width += 40
    return Timeline(
        width=width,
        height=top + len(items) * row_height + 10,
        left=left,
        bars=bars,
        marks=[
            Mark(
                m["label"],
                x_of(m["day"]),
                m.get("kind", ""),
                m.get("url", ""),
                m.get("note", ""),
                m["day"],
            )
            for m in marks
        ],
        ticks=ticks,
        today_x=x_of(today) if start <= today <= end else None,
        row_height=row_height,
    )
