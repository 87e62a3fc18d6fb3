"""The comparisons as pictures: SVG drawn on the server, no script, no inline style.

Colours come from CSS classes in ``static/compare.css`` (the Content Security Policy forbids
style attributes); geometry uses SVG presentation attributes. Every chart has a title and a
description for screen readers, and the page puts a plain table with the same numbers
beside it. Traffic lights always carry a letter as well as a colour, and the three colours
differ in lightness (dark green, mid red, light yellow), so they stay apart for colour-blind
readers and on a black-and-white print.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import format_percent, get_locale, pgettext
from markupsafe import Markup, escape

from portal.toolkit import _, format_decimal, ngettext
from portal_compare.kinds import row_score, sort_group
from portal_compare.stats import LIGHTS, Summary, position

LABEL_W = 280  # indicator names
AXIS_W = 300  # the scale
ROW = 26  # one indicator
GROUP_ROW = 26  # a group's heading
TOP = 30  # room for the ticks
SHARES_W = 130  # the red / yellow / green bar
CELL_W, CELL_H, GROUP_GAP = 36, 24, 6  # the heat map
TIPS_UP_TO = 100  # heat maps of up to this many clusters have a hover text per cell


def _light_letter(light: str | None) -> str:
    return {
        "green": pgettext("traffic light, one letter", "G"),
        "yellow": pgettext("traffic light, one letter", "Y"),
        "red": pgettext("traffic light, one letter", "R"),
    }.get(light or "", "–")


def _light_name(light: str | None) -> str:
    return {"green": _("green"), "yellow": _("yellow"), "red": _("red")}.get(
        light or "", _("Not assessed")
    )


def _number(value: float) -> str:
    return format_decimal(value, "#,##0.##")


def _percent(share: float) -> str:
    return format_percent(share, "#,##0 %")


# Words and numbers per language, shared by the requests of a process: Babel's formatting and
# the catalogs' look-ups are the costly part of drawing the charts, and a scale has few
# distinct values. Bounded: emptied when full.
_FORMATTED: dict[tuple, str] = {}
_FORMATTED_MAX = 20_000


def _remembered(fmt, value) -> str:
    key = (str(get_locale() or "en"), fmt, value)
    found = _FORMATTED.get(key)
    if found is None:
        if len(_FORMATTED) >= _FORMATTED_MAX:
            _FORMATTED.clear()
        found = _FORMATTED[key] = fmt(value)
    return found


def light_letter(light: str | None) -> str:
    """The one letter that says a light without its colour."""
    return _remembered(_light_letter, light)


def light_name(light: str | None) -> str:
    return _remembered(_light_name, light)


def number(value: float | None) -> str:
    return "–" if value is None else _remembered(_number, value)


def percent(share: float) -> str:
    return _remembered(_percent, share)


class Words:
    """Light names, letters and numbers in the request's language, each worked out once
    (a heat map page formats hundreds of cells). Numbers come escaped for HTML."""

    def __init__(self):
        self.names = {light: light_name(light) for light in (*LIGHTS, None)}
        self.letters = {light: light_letter(light) for light in (*LIGHTS, None)}
        self._numbers: dict[float, str] = {}
        self._percents: dict[float, str] = {}

    def number(self, value: float | None) -> str:
        if value is None:
            return "–"
        found = self._numbers.get(value)
        if found is None:
            found = self._numbers[value] = str(escape(number(value)))
        return found

    def percent(self, share: float) -> str:
        found = self._percents.get(share)
        if found is None:
            found = self._percents[share] = str(escape(percent(share)))
        return found


def coverage_text(coverage) -> str:
    """How much of the set a round covers: "23 of 31 indicators"."""
    return ngettext(
        "%(covered)d of %(num)d indicator",
        "%(covered)d of %(num)d indicators",
        coverage.total,
        covered=coverage.covered,
    )


def partial(coverage) -> bool:
    return coverage is not None and coverage.partial


def short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: max(limit - 1, 1)].rstrip() + "…"


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


class Svg:
    """An SVG document built as text; every text and attribute value is escaped."""

    def __init__(self, width: float, height: float, uid: str, title: str, desc: str = ""):
        self.width, self.height, self.uid = width, height, uid
        self.title, self.desc = title, desc
        self.parts: list[str] = []

    @staticmethod
    def _attrs(attrs: dict) -> str:
        found = []
        for key, value in attrs.items():
            if value is None or value == "":
                continue
            if isinstance(value, float):
                value = _n(value)
            found.append(f' {key}="{escape(value)}"')
        return "".join(found)

    def _add(self, tag: str, attrs: dict, inner: str = "", title: str | None = None) -> None:
        tip = f"<title>{escape(title)}</title>" if title else ""
        self.parts.append(f"<{tag}{self._attrs(attrs)}>{tip}{inner}</{tag}>")

    def rect(self, x, y, w, h, cls, title=None, rx=None) -> None:
        attrs = {"x": float(x), "y": float(y), "width": float(max(w, 0)), "height": float(h)}
        self._add("rect", {**attrs, "rx": rx, "class": cls}, title=title)

    def line(self, x1, y1, x2, y2, cls) -> None:
        coords = {"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2)}
        self._add("line", {**coords, "class": cls})

    def circle(self, cx, cy, r, cls, title=None) -> None:
        self._add(
            "circle", {"cx": float(cx), "cy": float(cy), "r": float(r), "class": cls}, "", title
        )

    def polygon(self, points: Iterable[tuple[float, float]], cls, title=None) -> None:
        text = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        self._add("polygon", {"points": text, "class": cls}, title=title)

    def text(self, x, y, text, cls="", anchor=None, title=None, transform=None, bold=None) -> None:
        inner = escape(text)
        if bold:  # a second, bold part (the light's letter)
            inner += Markup('<tspan class="cmp-letter">{}</tspan>').format(bold)
        attrs = {"x": float(x), "y": float(y), "class": cls, "text-anchor": anchor}
        self._add("text", {**attrs, "transform": transform}, inner, title)

    def open_group(self, cls: str) -> None:
        self.parts.append(f'<g class="{escape(cls)}">')

    def close_group(self) -> None:
        self.parts.append("</g>")

    def markup(self) -> Markup:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="cmp-svg" role="img"'
            f' width="{_n(self.width)}" height="{_n(self.height)}"'
            f' viewBox="0 0 {_n(self.width)} {_n(self.height)}"'
            f' aria-labelledby="{self.uid}-t{f" {self.uid}-d" if self.desc else ""}">'
            f'<title id="{self.uid}-t">{escape(self.title)}</title>'
            + (f'<desc id="{self.uid}-d">{escape(self.desc)}</desc>' if self.desc else "")
        )
        return Markup(head + "".join(self.parts) + "</svg>")  # noqa: S704  (escaped above)


@dataclass(frozen=True)
class Axis:
    """Where a value lies across ``width`` pixels from ``left``: the worst end on the left."""

    left: float
    width: float

    def x(self, value: float, info) -> float:
        share = position(value, info.minimum, info.maximum, info.higher_is_better)
        return self.left + share * self.width


def _ticks(svg: Svg, axis: Axis, infos, top: float, bottom: float) -> None:
    """Ticks above the plot: the values when every indicator shares one scale (higher is
    better), else "worst" and "best"."""
    first = infos[0] if infos else None
    common = first is not None and all(
        (i.minimum, i.maximum, i.higher_is_better)
        == (first.minimum, first.maximum, first.higher_is_better)
        for i in infos
    )
    if common and first.higher_is_better and 0 < first.maximum - first.minimum <= 10:
        steps = int(first.maximum - first.minimum)
        ticks = [(first.minimum + s, number(first.minimum + s)) for s in range(steps + 1)]
        for value, label in ticks:
            x = axis.x(value, first)
            svg.line(x, top - 6, x, bottom, "cmp-grid")
            svg.text(x, top - 10, label, "cmp-tick", "middle")
    else:
        svg.line(axis.left, top - 6, axis.left, bottom, "cmp-grid")
        svg.line(axis.left + axis.width, top - 6, axis.left + axis.width, bottom, "cmp-grid")
        svg.text(axis.left, top - 10, _("worst"), "cmp-tick", "start")
        svg.text(axis.left + axis.width, top - 10, _("best"), "cmp-tick", "end")


def _grouped(infos) -> list[tuple[str, list[tuple[int, object]]]]:
    """Indicators (with their index) under their group, in the set's order."""
    groups: list[tuple[str, list[tuple[int, object]]]] = []
    for index, info in enumerate(infos):
        if not groups or groups[-1][0] != info.group:
            groups.append((info.group, []))
        groups[-1][1].append((index, info))
    return groups


def _rows(infos) -> tuple[list[tuple[float, str | None, int | None]], float]:
    """The vertical layout: (y of the row's middle, group heading or None, indicator index)."""
    rows, y = [], TOP
    for group, items in _grouped(infos):
        rows.append((y + GROUP_ROW / 2 + 5, group, None))
        y += GROUP_ROW
        for index, _info in items:
            rows.append((y + ROW / 2, None, index))
            y += ROW
    return rows, y + 8


def _label(svg: Svg, y: float, info) -> None:
    svg.text(LABEL_W - 12, y + 4, short(info.name, 38), "cmp-label", "end", title=info.name)


def _shares(svg: Svg, left: float, y: float, summary: Summary | None) -> None:
    if summary is None:
        svg.text(left, y + 4, _("not shown"), "cmp-muted")
        return
    x = left
    width = SHARES_W - 10
    for light in LIGHTS:
        share = summary.share(light)
        w = share * width
        if w <= 0:
            continue
        tip = f"{light_name(light)}: {percent(share)}"
        svg.rect(x, y - 8, w, 16, f"cmp-seg cmp-fill-{light}", title=tip)
        if w >= 16:
            svg.text(
                x + w / 2, y + 4, light_letter(light), f"cmp-seg-text cmp-on-{light}", "middle"
            )
        x += w


def _dot(svg: Svg, x: float, y: float, light: str | None, title: str) -> None:
    svg.circle(x, y, 9, f"cmp-dot cmp-fill-{light or 'none'}", title=title)
    svg.text(x, y + 4, light_letter(light), f"cmp-dot-text cmp-on-{light or 'none'}", "middle")


# --- 1. a cluster over time -----------------------------------------------------------------

CHANGE_SIGNS = {"improved": "▲", "declined": "▼", "same": "="}


def change_word(change: str | None) -> str:
    words = {"improved": _("improved"), "declined": _("declined"), "same": _("same")}
    return words.get(change or "", "")


def change_label(change: str | None) -> str:
    """The change with a sign that does not need its colour: ▲ improved, ▼ declined, = same."""
    return f"{CHANGE_SIGNS[change]} {change_word(change)}" if change in CHANGE_SIGNS else "–"


def over_time(result, uid: str, title: str) -> Markup:
    infos = [row.indicator for row in result.rows]
    axis = Axis(LABEL_W, AXIS_W)
    layout, height = _rows(infos)
    counts = result.counts
    desc = _(
        "%(improved)d indicators improved, %(declined)d declined, %(same)d stayed the same "
        "since the round before.",
        **counts,
    )
    svg = Svg(LABEL_W + AXIS_W + 200, height, uid, title, desc)
    _ticks(svg, axis, infos, TOP, height - 8)
    dates = [r.held_on for r in result.rounds]
    for y, group, index in layout:
        if group is not None:
            svg.text(0, y, short(group, 60), "cmp-group")
            continue
        row = result.rows[index]
        info = row.indicator
        _label(svg, y, info)
        svg.line(axis.left, y, axis.left + axis.width, y, "cmp-track")
        known = [(d, p) for d, p in zip(dates, row.points, strict=True) if p is not None]
        for held_on, (value, _light) in known[:-1]:
            svg.circle(
                axis.x(value, info), y, 4, "cmp-past", f"{held_on:%Y-%m-%d}: {number(value)}"
            )
        if len(known) >= 2:
            x1, x2 = axis.x(known[-2][1][0], info), axis.x(known[-1][1][0], info)
            if abs(x2 - x1) > 10:
                step = 10 if x2 > x1 else -10
                svg.line(x1, y, x2 - step, y, f"cmp-trend cmp-trend-{row.change}")
        if known:
            held_on, (value, light) = known[-1]
            tip = f"{info.name}, {held_on:%Y-%m-%d}: {number(value)} ({light_name(light)})"
            _dot(svg, axis.x(value, info), y, light, tip)
            values = " → ".join(number(p[0]) for _d, p in known[-2:])
            svg.text(axis.left + axis.width + 18, y + 4, values, "cmp-value")
            svg.text(
                axis.left + axis.width + 80,
                y + 4,
                change_label(row.change) if row.change else "",
                f"cmp-change cmp-change-{row.change}",
            )
        else:
            svg.text(axis.left + axis.width + 18, y + 4, _("not assessed"), "cmp-muted")
    return svg.markup()


# --- 2. a cluster against the forum ---------------------------------------------------------


def against_forum(result, uid: str, title: str, min_group: int) -> Markup:
    infos = [row.indicator for row in result.rows]
    axis = Axis(LABEL_W, AXIS_W)
    layout, height = _rows(infos)
    shares = not result.suppressed
    width = LABEL_W + AXIS_W + 80 + (SHARES_W if shares else 0)
    if result.suppressed:
        desc = _(
            "The cluster's values only: fewer than %(k)d other clusters have a round, so "
            "the forum is not shown.",
            k=min_group,
        )
    else:
        desc = _(
            "Per indicator, the cluster's value as a bar, the middle half of the forum's "
            "clusters as a band and the forum's median as a line; then the forum's share of "
            "red, yellow and green."
        )
    svg = Svg(width, height, uid, title, desc)
    _ticks(svg, axis, infos, TOP, height - 8)
    if shares:
        svg.text(axis.left + axis.width + 80, TOP - 10, _("forum: R / Y / G"), "cmp-tick")
    for y, group, index in layout:
        if group is not None:
            svg.text(0, y, short(group, 60), "cmp-group")
            continue
        row = result.rows[index]
        info = row.indicator
        _label(svg, y, info)
        svg.line(axis.left, y, axis.left + axis.width, y, "cmp-track")
        forum = row.forum
        if forum is not None:
            a, b = sorted((axis.x(forum.q1, info), axis.x(forum.q3, info)))
            tip = _(
                "Forum: middle half %(q1)s to %(q3)s, median %(median)s",
                q1=number(forum.q1),
                q3=number(forum.q3),
                median=number(forum.median),
            )
            svg.rect(a, y - 10, max(b - a, 3), 20, "cmp-band", title=tip)
        if row.value is not None:
            x = axis.x(row.value, info)
            tip = f"{info.name}: {number(row.value)} ({light_name(row.light)})"
            svg.rect(axis.left, y - 4, x - axis.left, 8, f"cmp-bar cmp-fill-{row.light}", tip)
            svg.text(
                axis.left + axis.width + 12,
                y + 4,
                number(row.value) + " ",
                "cmp-value",
                bold=light_letter(row.light),
            )
        else:
            svg.text(axis.left + axis.width + 12, y + 4, "–", "cmp-muted")
        if forum is not None:
            m = axis.x(forum.median, info)
            svg.line(m, y - 12, m, y + 12, "cmp-median")
        if shares:
            _shares(svg, axis.left + axis.width + 80, y, forum)
    return svg.markup()


# --- 3. the forum's scorecard ---------------------------------------------------------------


def row_scores(result) -> list[float]:
    """Each heat map row's score: over the group it is sorted by, else over every indicator."""
    group = sort_group(result.sort)
    return [
        row.score if row.score is not None else row_score(row.cells, result.indicators, group)
        for row in result.rows
    ]


def _columns(infos, left: float) -> tuple[list[float], float]:
    """The x of each indicator's column (a gap between groups) and the right end."""
    columns: list[float] = []
    x = left
    previous = None
    for info in infos:
        if previous is not None and info.group_id != previous:
            x += GROUP_GAP
        columns.append(x)
        x += CELL_W
        previous = info.group_id
    return columns, x


def heat_map(result, uid: str, title: str) -> Markup:
    """Clusters (rows) by indicators (columns), each cell coloured by its light and carrying
    the value and the light's letter. Written straight as text: a report of 500 clusters
    makes 15,500 cells (a page of the scorecard has ``PER_PAGE`` rows)."""
    words = Words()
    infos = result.indicators
    scores = row_scores(result)
    longest = max((len(r.label) for r in result.rows), default=10)
    label_w = max(120, min(260, longest * 7 + 16))
    header = 150
    columns, x = _columns(infos, label_w)
    score_x = x + 12
    width = score_x + 110
    height = header + len(result.rows) * CELL_H + 56
    desc = _(
        "%(rows)d clusters by %(columns)d indicators; each cell shows the value and the "
        "letter of its light (%(green)s green, %(yellow)s yellow, %(red)s red).",
        rows=len(result.rows),
        columns=len(infos),
        green=words.letters["green"],
        yellow=words.letters["yellow"],
        red=words.letters["red"],
    )
    svg = Svg(width, height, uid, title, desc)
    for info, left in zip(infos, columns, strict=True):
        cx = left + CELL_W / 2 + 4
        svg.text(
            cx,
            header - 8,
            short(info.name, 28),
            "cmp-col-label",
            transform=f"rotate(-55 {_n(cx)} {_n(header - 8)})",
            title=f"{info.group}: {info.name}",
        )
    group = sort_group(result.sort)
    group_name = next((i.group for i in infos if i.group_id == group), None)
    svg.text(score_x, header - 8, _("score"), "cmp-col-label")
    if group_name:  # the score of the group the rows are sorted by
        svg.text(score_x, header - 22, short(group_name, 16), "cmp-col-label", title=group_name)
    tips = len(result.rows) <= TIPS_UP_TO  # hover texts; big maps have the table instead
    # Per column, the parts of a cell that do not depend on the row.
    rect_x = [f'<rect x="{_n(left + 1)}" y="' for left in columns]
    text_x = [f'<text x="{_n(left + CELL_W / 2)}" y="' for left in columns]
    names = [str(escape(info.name)) for info in infos]
    size = f'" width="{CELL_W - 2}" height="{CELL_H - 2}" class="cmp-cell cmp-fill-'
    lights = {
        light: (
            str(escape(words.names[light])),
            f'<tspan class="cmp-letter">{escape(words.letters[light])}</tspan></text>',
            f'" class="cmp-cell-text cmp-on-{light}">',
        )
        for light in LIGHTS
    }
    parts = svg.parts
    number_of = words.number
    for r, row in enumerate(result.rows):
        y = header + r * CELL_H
        svg.text(label_w - 10, y + CELL_H / 2 + 4, short(row.label, 34), "cmp-label", "end")
        label = escape(row.label)
        ty = _n(y + CELL_H / 2 + 4)
        ry = _n(y + 1)
        for column, cell in enumerate(row.cells):
            if cell is None:
                parts.append(
                    f'{rect_x[column]}{ry}{size}none"></rect>{text_x[column]}{ty}"'
                    ' class="cmp-cell-text cmp-on-none">–</text>'
                )
                continue
            value, light = cell
            shown = number_of(value)
            found = lights.get(light)
            if found is None:  # not a light: a plain cell
                parts.append(
                    f'{rect_x[column]}{ry}{size}none"></rect>{text_x[column]}{ty}"'
                    f' class="cmp-cell-text cmp-on-none">{shown}</text>'
                )
                continue
            light_word, letter, text_class = found
            tip = (
                f"<title>{label} · {names[column]}: {shown} ({light_word})</title>" if tips else ""
            )
            parts.append(
                f'{rect_x[column]}{ry}{size}{light}">{tip}</rect>'
                f"{text_x[column]}{ty}{text_class}{shown}{letter}"
            )
        if partial(row.coverage):  # a partial round's score says what it covers
            svg.text(
                score_x,
                y + CELL_H / 2 + 4,
                f"{percent(scores[r])} ({row.coverage.covered}/{row.coverage.total})",
                "cmp-value",
                title=_("Partial round: %(covered)s", covered=coverage_text(row.coverage)),
            )
            continue
        svg.text(score_x, y + CELL_H / 2 + 4, words.percent(scores[r]), "cmp-value")
    bottom = header + len(result.rows) * CELL_H + 8
    for group_label, items in _grouped(infos):
        left = columns[items[0][0]]
        right = columns[items[-1][0]] + CELL_W
        svg.line(left + 1, bottom, right - 1, bottom, "cmp-bracket")
        limit = max(int((right - left) / 6.5), 3)
        svg.text(
            (left + right) / 2,
            bottom + 16,
            short(group_label, limit),
            "cmp-tick",
            "middle",
            group_label,
        )
    return svg.markup()


def heat_table_body(result, link=None) -> Markup:
    """The heat map's rows as the rows of its table (value and light's name per cell, then
    the score), written straight as HTML. ``link(row)`` answers the address of a row's
    cluster, or None."""
    words = Words()
    scores = row_scores(result)
    names = {light: str(escape(words.names[light])) for light in LIGHTS}
    parts = []
    for n, row in enumerate(result.rows):
        address = link(row) if link is not None else None
        label = escape(row.label)
        head = f'<a href="{escape(address)}">{label}</a>' if address else label
        parts.append(f'<tr><th scope="row">{head}</th>')
        for cell in row.cells:
            if cell is None:
                parts.append('<td class="num">–</td>')
                continue
            word = names.get(cell[1])
            small = f' <small class="cmp-light-word">{word}</small>' if word else ""
            parts.append(f'<td class="num">{words.number(cell[0])}{small}</td>')
        note = (
            f' <small class="cmp-partial">{escape(_("partial"))}: '
            f"{escape(coverage_text(row.coverage))}</small>"
            if partial(row.coverage)
            else ""
        )
        parts.append(f'<td class="num">{words.percent(scores[n])}{note}</td></tr>')
    return Markup("".join(parts))  # noqa: S704  (every text escaped above)


def distribution(result, uid: str, title: str, own=None) -> Markup:
    """Per indicator, grouped: the middle half of the forum as a line, the median as a dot,
    the viewer's own cluster as a diamond; then the forum's share of each light.

    Without ``own`` it depends on the forum's aggregates only: a scorecard keeps it with its
    statistics (``result.drawings``) per language and set of suppressed aggregates."""
    drawings = getattr(result, "drawings", None)
    key = None
    if drawings is not None and own is None:
        hidden = tuple(k for k, summary in result.summaries.items() if summary is None)
        key = ("distribution", uid, str(title), str(get_locale() or "en"), hidden)
        found = drawings.get(key)
        if found is not None:
            return found
    markup = _distribution(result, uid, title, own)
    if key is not None:
        if len(drawings) >= 32:
            drawings.clear()
        drawings[key] = markup
    return markup


def _distribution(result, uid: str, title: str, own=None) -> Markup:
    infos = result.indicators
    axis = Axis(LABEL_W, AXIS_W)
    layout, height = _rows(infos)
    width = LABEL_W + AXIS_W + 30 + SHARES_W
    desc = _(
        "Per indicator, the middle half of the forum's clusters as a line and the median as "
        "a dot; then the share of red, yellow and green."
    )
    svg = Svg(width, height, uid, title, desc)
    _ticks(svg, axis, infos, TOP, height - 8)
    svg.text(axis.left + axis.width + 30, TOP - 10, _("R / Y / G"), "cmp-tick")
    for y, group, index in layout:
        if group is not None:
            svg.text(0, y, short(group, 60), "cmp-group")
            continue
        info = infos[index]
        _label(svg, y, info)
        svg.line(axis.left, y, axis.left + axis.width, y, "cmp-track")
        summary = result.summaries.get(info.id)
        if summary is not None:
            a, b = sorted((axis.x(summary.q1, info), axis.x(summary.q3, info)))
            tip = _(
                "Forum: middle half %(q1)s to %(q3)s, median %(median)s",
                q1=number(summary.q1),
                q3=number(summary.q3),
                median=number(summary.median),
            )
            svg.line(a, y, max(b, a + 2), y, "cmp-iqr")
            svg.circle(axis.x(summary.median, info), y, 6, "cmp-median-dot", tip)
        own_cell = own[index] if own else None
        if own_cell is not None:
            ox = axis.x(own_cell[0], info)
            tip = f"{info.name}: {number(own_cell[0])} ({light_name(own_cell[1])})"
            svg.polygon(
                [(ox, y - 8), (ox + 8, y), (ox, y + 8), (ox - 8, y)],
                f"cmp-own cmp-fill-{own_cell[1]}",
                tip,
            )
        _shares(svg, axis.left + axis.width + 30, y, summary)
    return svg.markup()


# --- 4. the forum against a reference portfolio ----------------------------------------------


def gap_value(gap) -> float:
    """The forum's median minus the reference's, in the indicator's units, + is better."""
    span = (gap.indicator.maximum - gap.indicator.minimum) or 1.0
    return gap.gap * span


def gaps(lags, uid: str, title: str) -> Markup:
    """Diverging bars: where the forum's median lags the reference's (left) or leads it."""
    half = 190
    center = LABEL_W + half + 10
    width = center + half + 70
    height = TOP + len(lags) * ROW + 10
    biggest = max((abs(g.gap) for g in lags), default=0.0)
    scale = (half - 40) / max(biggest, 0.2)  # room for the number at the bar's end
    svg = Svg(width, height, uid, title)
    svg.text(center - 6, TOP - 12, _("← the forum lags"), "cmp-tick", "end")
    svg.text(center + 6, TOP - 12, _("the forum leads →"), "cmp-tick", "start")
    svg.line(center, TOP - 6, center, height - 6, "cmp-axis")
    for n, gap in enumerate(lags):
        y = TOP + n * ROW + ROW / 2
        _label(svg, y, gap.indicator)
        w = abs(gap.gap) * scale
        value = gap_value(gap)
        text = ("+" if value > 0 else "") + number(value)
        tip = _(
            "%(name)s: forum median %(forum)s, reference median %(reference)s",
            name=gap.indicator.name,
            forum=number(gap.forum.median),
            reference=number(gap.reference.median),
        )
        if gap.gap < 0:
            svg.rect(center - w, y - 7, w, 14, "cmp-lag", tip)
            svg.text(center - w - 6, y + 4, text, "cmp-value", "end")
        else:
            svg.rect(center, y - 7, max(w, 1), 14, "cmp-ahead", tip)
            svg.text(center + w + 6, y + 4, text, "cmp-value")
    return svg.markup()
