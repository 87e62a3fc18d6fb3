"""The comparisons as an Excel workbook: one sheet per comparison, numbers as numbers.

The sheets hold what the pages show, from the same results (privacy is applied in the
kinds: a sheet never holds more than its page).
"""

from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

from flask import Response

from portal.toolkit import _
from portal_compare import charts
from portal_compare.stats import LIGHTS

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Fills of the lights in the workbook (the same colours as on the page) and their text.
FILLS = {"green": ("1E6B34", "FFFFFF"), "yellow": ("F2C230", "1F2A33"), "red": ("F0776B", "1F2A33")}

Sheet = tuple[str, list[str], list[list[Any]], dict]  # title, header, rows, cell lights


def _light(light: str | None) -> str:
    return charts.light_name(light) if light else ""


def _summary_cells(summary) -> list[Any]:
    if summary is None:
        return [None] * 7
    return [
        summary.count,
        summary.q1,
        summary.median,
        summary.q3,
        *(round(summary.share(light), 4) for light in LIGHTS),
    ]


def _summary_header(prefix: str) -> list[str]:
    return [
        _("%(prefix)s: clusters", prefix=prefix),
        _("%(prefix)s: lower quartile", prefix=prefix),
        _("%(prefix)s: median", prefix=prefix),
        _("%(prefix)s: upper quartile", prefix=prefix),
        _("%(prefix)s: share red", prefix=prefix),
        _("%(prefix)s: share yellow", prefix=prefix),
        _("%(prefix)s: share green", prefix=prefix),
    ]


def _suppressed_note(context) -> str:
    return _("Fewer than %(k)d clusters: not shown", k=context.min_group)


def over_time_sheet(result, context) -> list[Sheet]:
    header = [_("Group"), _("Indicator")]
    for r, coverage in zip(result.rounds, result.coverage, strict=True):
        day = r.held_on.isoformat()
        if coverage.partial:  # a partial round says so in its columns
            day = _(
                "%(date)s (partial: %(covered)s)",
                date=day,
                covered=charts.coverage_text(coverage),
            )
        header += [day, _("Light %(date)s", date=day)]
    header.append(_("Change"))
    rows, lights = [], {}
    for n, row in enumerate(result.rows):
        line: list[Any] = [row.indicator.group, row.indicator.name]
        for point in row.points:
            if point is None:
                line += [None, ""]
            else:
                lights[(n, len(line))] = point[1]
                line += [point[0], _light(point[1])]
        line.append(charts.change_word(row.change))
        rows.append(line)
    return [(_("Over time"), header, rows, lights)]


def against_forum_sheet(result, context) -> list[Sheet]:
    header = [_("Group"), _("Indicator"), _("Value"), _("Light")]
    if not result.suppressed:
        # An older round meets the forum as it was on its day: the columns say which.
        forum = (
            _("Forum on %(date)s", date=result.forum_on.isoformat())
            if result.forum_on
            else _("Forum")
        )
        header += _summary_header(forum)
    rows, lights = [], {}
    for n, row in enumerate(result.rows):
        line: list[Any] = [row.indicator.group, row.indicator.name, row.value, _light(row.light)]
        if row.light:
            lights[(n, 2)] = row.light
        if not result.suppressed:
            line += _summary_cells(row.forum)
        rows.append(line)
    if result.suppressed:
        rows.append([_("Forum"), _suppressed_note(context)])
    return [(_("Against the forum"), header, rows, lights)]


def scorecard_sheets(result, context) -> list[Sheet]:
    sheets = []
    if result.rows:
        header = [
            _("Cluster"),
            *(i.name for i in result.indicators),
            _("Score"),
            _("Indicators"),  # how many the round covers: fewer than all is a partial round
        ]
        scores = charts.row_scores(result)
        rows, lights = [], {}
        for n, row in enumerate(result.rows):
            line: list[Any] = [row.label]
            for cell in row.cells:
                if cell is not None:
                    lights[(n, len(line))] = cell[1]
                line.append(cell[0] if cell else None)
            line.append(round(scores[n], 4))
            line.append(row.coverage.covered if row.coverage else None)
            rows.append(line)
        sheets.append((_("Scorecard"), header, rows, lights))
    header = [_("Group"), _("Indicator"), *_summary_header(_("Forum"))]
    rows = []
    for info in result.indicators:
        rows.append([info.group, info.name, *_summary_cells(result.summaries.get(info.id))])
    if result.suppressed:
        rows.append([_("Forum"), _suppressed_note(context)])
    sheets.append((_("Distribution"), header, rows, {}))
    return sheets


def references_sheet(result, context) -> list[Sheet]:
    if not result.references:
        return []
    header = [_("Group"), _("Indicator"), *_summary_header(_("Forum"))]
    for column in result.references:
        header += _summary_header(column.name)
    header.append(_("Gap to %(reference)s", reference=result.references[0].name))
    gaps = {g.indicator.id: charts.gap_value(g) for g in result.lags}
    rows = []
    for info in result.indicators:
        line = [info.group, info.name, *_summary_cells(result.forum.get(info.id))]
        for column in result.references:
            line += _summary_cells(column.summaries.get(info.id))
        line.append(gaps.get(info.id))
        rows.append(line)
    if result.suppressed:
        rows.append([_("Forum"), _suppressed_note(context)])
    return [(_("References"), header, rows, {})]


def forum_over_time_sheet(result, context) -> list[Sheet]:
    """Per indicator between the two coordinated benchmarkings: clusters, the median and the
    light shares before and after, and the work aimed at it."""
    if result.before is None:
        return []
    header = [
        _("Group"),
        _("Indicator"),
        _("Clusters in both"),
        _("Median before"),
        _("Median after"),
        _("Green before (%)"),
        _("Green after (%)"),
        _("Red before (%)"),
        _("Red after (%)"),
        _("Moved"),
        _("Work aimed at it"),
    ]
    words = {
        "improved": _("improved"),
        "declined": _("declined"),
        "same": _("unchanged"),
        "hidden": _("Fewer than %(k)d clusters: not shown", k=context.min_group),
    }
    rows = []
    for row in result.indicators:
        move = row.move
        shown = move.before is not None
        rows.append(
            [
                row.group,
                row.name,
                move.clusters,
                move.before.median if shown else None,
                move.after.median if shown else None,
                row.share("before", "green") or None,
                row.share("after", "green") or None,
                row.share("before", "red") or None,
                row.share("after", "red") or None,
                words[move.direction],
                len(row.work) + row.more_work,
            ]
        )
    title = _("Forum %(before)s to %(after)s", before=result.before.key, after=result.after.key)
    return [(title, header, rows, {})]


WRITERS = {
    "forum-over-time": forum_over_time_sheet,
    "over-time": over_time_sheet,
    "against-forum": against_forum_sheet,
    "scorecard": scorecard_sheets,
    "references": references_sheet,
}


def sheets(kind, result, context) -> list[Sheet]:
    writer = WRITERS.get(kind.id)
    return writer(result, context) if writer else []


def _title(text: str, taken: set[str]) -> str:
    """A sheet title Excel accepts: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", " ", str(text)).strip()[:31] or "Sheet"
    title, n = base, 2
    while title.lower() in taken:
        title = f"{base[:27]} ({n})"
        n += 1
    taken.add(title.lower())
    return title


def workbook(found: list[Sheet]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    if not found:
        found = [(_("Comparisons"), [_("No comparison to export yet.")], [], {})]
    taken: set[str] = set()
    fills = {
        light: (PatternFill("solid", fgColor=back), Font(color=text))
        for light, (back, text) in FILLS.items()
    }
    for index, (title, header, rows, lights) in enumerate(found):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = _title(title, taken)
        ws.append([str(h) for h in header])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell = ws.cell(row=r + 2, column=c + 1, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
                light = lights.get((r, c))
                if light in fills:
                    cell.fill, cell.font = fills[light]
        ws.column_dimensions["A"].width = 28
        if len(header) > 1:
            ws.column_dimensions["B"].width = 36
        for c in range(3, len(header) + 1):
            ws.column_dimensions[get_column_letter(c)].width = 12
        ws.freeze_panes = "C2" if len(header) > 2 else "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def file_name(*parts: Any) -> str:
    """An ASCII file name: letters, digits and dashes only."""
    words = []
    for part in parts:
        if part is None:
            continue
        if hasattr(part, "version"):
            words += [part.id, part.version]
        else:
            words.append(str(part))
    text = "-".join(words)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:80].strip("-")
    return (text or "comparisons") + ".xlsx"


def download(found: list[Sheet], name: str) -> Response:
    return Response(
        workbook(found),
        mimetype=XLSX_MIME,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
