"""Geometry of the plugin's pictures, drawn as SVG by the templates: the timeline of joint
actions (bars from start to due date) and the "together versus alone" bars of the effort
saved. Pure functions: no database, no Flask."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

# Dark enough for at least 3:1 against white (graphics), and each status also has its name.
STATUS_COLOURS = {
    "proposed": "#6a4c93",
    "planned": "#5b6770",
    "in_progress": "#0072b2",
    "done": "#1e6b34",
    "cancelled": "#767f88",
}
TICK_ROOM = 72  # room for a month's label ("Sep 2027") at the tick font
RIGHT_ROOM = 48  # beyond the drawing's end, so the last month's label fits
TOGETHER_COLOUR = "#0072b2"
ALONE_COLOUR = "#8a6100"


# --- timeline -----------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    status: str
    x: float
    y: float
    width: float
    colour: str
    url: str
    start: date | None
    end: date | None
    overdue: bool = False


@dataclass
class Tick:
    x: float
    day: date


@dataclass
class Timeline:
    width: float
    height: float
    left: float
    row_height: float
    bars: list[Bar]
    ticks: list[Tick]
    today_x: float | None


def timeline(
    start: date,
    end: date,
    items: list[dict[str, Any]],
    today: date,
    *,
    width: float = 900,
    left: float = 250,
    row_height: float = 36,
) -> Timeline:
    """``items``: {label, status, start, end, url}; an item with one date gets a short bar.

    The period covers ``start``..``end`` and every item's dates."""
    days = [d for i in items for d in (i.get("start"), i.get("end")) if d]
    start = min([start, *days])
    end = max([end, *days])
    if end <= start:
        end = start + timedelta(days=30)
    span = (end - start).days
    right = 24
    scale = (width - left - right) / span

    def x_of(day: date) -> float:
        return round(left + (day - start).days * scale, 1)

    top = 22
    bars = []
    for row, item in enumerate(items):
        first = item.get("start") or item.get("end")
        last = item.get("end") or first
        if last < first:
            first, last = last, first
        status = item.get("status", "")
        bars.append(
            Bar(
                label=item["label"],
                status=status,
                x=x_of(first),
                y=top + row * row_height,
                width=max(round((last - first).days * scale, 1), 8),
                colour=STATUS_COLOURS.get(status, "#5b6770"),
                url=item.get("url", ""),
                start=item.get("start"),
                end=item.get("end"),
                overdue=bool(item.get("overdue")),
            )
        )
    ticks = []
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            ticks.append(Tick(x_of(month), month))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    month_width = 30.4 * scale
    step = max(1, math.ceil(TICK_ROOM / month_width))
    if step > 1:  # a long period: label every few months only, so the labels never touch
        ticks = ticks[::step]
    return Timeline(
        width=width + RIGHT_ROOM,
        height=top + len(items) * row_height + 8,
        left=left,
        row_height=row_height,
        bars=bars,
        ticks=ticks,
        today_x=x_of(today) if start <= today <= end else None,
    )


# --- together versus alone ----------------------------------------------------------------------


@dataclass
class EffortBar:
    kind: str  # "together" or "alone"
    value: Decimal
    x: float
    y: float
    width: float
    colour: str


@dataclass
class EffortGroup:
    unit: str  # "money" or "hours"
    effort: Any  # rollup.Effort
    y: float  # the group's title line
    bars: list[EffortBar]


@dataclass
class EffortPicture:
    width: float
    height: float
    left: float
    bar_width: float
    groups: list[EffortGroup]

    @property
    def empty(self) -> bool:
        return not any(g.bars for g in self.groups)


def effort_picture(
    efforts: dict[str, Any], *, width: float = 640, left: float = 150, bar_height: float = 24
) -> EffortPicture:
    """Bars "together" (what the participants that gave an estimate spent, or their share
    of the budget) and "alone" (the sum of their estimates), per unit, each unit on its own
    scale. A unit nobody estimated gets no bars (the page says why)."""
    bar_width = width - left - 130
    groups = []
    y = 4.0
    for unit, effort in efforts.items():
        title_y = y + 14
        y += 22
        bars = []
        if effort.alone is not None:
            together = Decimal(effort.together_of_estimators)
            alone = Decimal(effort.alone)
            biggest = max(together, alone) or Decimal(1)
            for kind, value, colour in (
                ("together", together, TOGETHER_COLOUR),
                ("alone", alone, ALONE_COLOUR),
            ):
                length = float(value / biggest) * bar_width
                bars.append(EffortBar(kind, value, left, y, round(max(length, 2), 1), colour))
                y += bar_height + 6
        else:
            y += bar_height
        groups.append(EffortGroup(unit, effort, title_y, bars))
        y += 12
    return EffortPicture(width, round(y, 1), left, bar_width, groups)
