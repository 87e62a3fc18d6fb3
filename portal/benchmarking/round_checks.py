"""The checks of the rows of a rounds file (see :mod:`portal.benchmarking.round_import`):
one :class:`RowChecker` per file and region loads clusters, sets and rounds once."""

from __future__ import annotations

import math
import re
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import User
from portal.benchmarking import services
from portal.benchmarking.indicators import IndicatorSet
from portal.benchmarking.models import BenchmarkRound, RoundKind
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.imports.cells import parse_float as _parse_float
from portal.imports.table import Problem
from portal.imports.table import is_blank as _is_blank
from portal.imports.table import text as _text
from portal.permissions import may

RowError = Problem
COLUMNS = (
    "cluster",
    "date",
    "indicator_set",
    "version",
    "indicator",
    "value",
    "comment",
    "assessor",
    "audit",
    "notes",
)
REQUIRED_COLUMNS = COLUMNS[:6]
MAX_ROWS = 100_000  # a whole round of 2,000 clusters on 31 indicators is 62,000
COMMENT_LIMIT = 2000
ASSESSOR_LIMIT = 200
NOTES_LIMIT = 5000
# The optional "audit" column: yes or no, in a few spellings (Excel booleans too).
AUDIT_WORDS = {
    "1": True,
    "yes": True,
    "true": True,
    "x": True,
    "0": False,
    "no": False,
    "false": False,
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class PlannedValue:
    line: int
    value: float
    light: str
    comment: str


@dataclass
class PlannedRound:
    """A round the file would create."""

    line: int  # its first row
    cluster_id: int
    cluster_name: str
    held_on: date
    indicator_set: IndicatorSet
    assessor: str = ""
    assessor_line: int | None = None
    audit: bool = False
    audit_line: int | None = None
    notes: str = ""
    notes_line: int | None = None
    values: dict[str, PlannedValue] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        result = {"green": 0, "yellow": 0, "red": 0}
        for planned in self.values.values():
            result[planned.light] += 1
        return result


class RowChecker:
    """Checks the rows of one file for one tenant; loads clusters, sets and rounds once."""

    def __init__(self, user: User | None, tenant_id: int):
        self.user = user
        self.tenant_id = tenant_id
        self.clusters = {
            c.name.strip(): c
            for c in db.session.scalars(select(Cluster).where(Cluster.tenant_id == tenant_id))
        }
        self.sets = {s.key: s for s in services.available_sets(tenant_id)}
        self.set_ids = {set_id for set_id, _version in self.sets}
        self.existing = {
            tuple(row)
            for row in db.session.execute(
                select(
                    BenchmarkRound.cluster_id,
                    BenchmarkRound.indicator_set,
                    BenchmarkRound.set_version,
                    BenchmarkRound.held_on,
                ).where(
                    BenchmarkRound.tenant_id == tenant_id,
                    # a self-assessment of the same day does not block the expert's result
                    BenchmarkRound.kind != RoundKind.SELF_ASSESSMENT,
                )
            )
        }
        self.allowed: dict[int, bool] = {}
        self.rounds: dict[tuple[int, str, str, date], PlannedRound] = {}
        self.errors: list[RowError] = []
        self.today = date.today()

    def error(self, line: int | None, column: str | None, message: str) -> None:
        self.errors.append(RowError(line, column, message))

    def _may(self, cluster: Cluster) -> bool:
        if self.user is None:
            return True
        if cluster.id not in self.allowed:
            self.allowed[cluster.id] = may(self.user, "round.assess", cluster)
        return self.allowed[cluster.id]

    def _cluster(self, line: int, cells: dict[str, Any]) -> Cluster | None:
        name = _text(cells["cluster"])
        if not name:
            self.error(line, "cluster", _("The cluster is missing."))
            return None
        cluster = self.clusters.get(name)
        if cluster is None:
            self.error(
                line,
                "cluster",
                _("There is no cluster named “%(name)s” in this region.", name=name),
            )
            return None
        if not self._may(cluster):
            self.error(line, "cluster", _("You may not enter rounds for this cluster."))
            return None
        return cluster

    def _date(self, line: int, cells: dict[str, Any]) -> date | None:
        raw = cells["date"]
        if isinstance(raw, datetime):
            held_on = raw.date()
        elif isinstance(raw, date):
            held_on = raw
        else:
            text = _text(raw)
            held_on = None
            if ISO_DATE.fullmatch(text):
                with suppress(ValueError):
                    held_on = date.fromisoformat(text)
            if held_on is None:
                self.error(
                    line,
                    "date",
                    _("“%(value)s” is not a date. Write it as YYYY-MM-DD.", value=text),
                )
                return None
        if held_on > self.today:
            self.error(line, "date", _("A round cannot be in the future."))
            return None
        return held_on

    def _set(self, line: int, cells: dict[str, Any]) -> IndicatorSet | None:
        set_id, version = _text(cells["indicator_set"]), _text(cells["version"])
        indicator_set = self.sets.get((set_id, version))
        if indicator_set is not None:
            return indicator_set
        if not set_id:
            self.error(line, "indicator_set", _("The indicator set is missing."))
        elif set_id in self.set_ids:
            known = sorted(v for s, v in self.sets if s == set_id)
            self.error(
                line,
                "version",
                _(
                    "The indicator set %(set)s has no version “%(version)s”. Known: %(known)s.",
                    set=set_id,
                    version=version,
                    known=", ".join(known),
                ),
            )
        elif services.find_set(set_id, version) is not None:
            self.error(
                line,
                "indicator_set",
                _(
                    "The indicator set %(set)s is not switched on for this region.",
                    set=set_id,
                ),
            )
        else:
            self.error(
                line,
                "indicator_set",
                _(
                    "Unknown indicator set “%(set)s”. Known: %(known)s.",
                    set=set_id,
                    known=", ".join(sorted(self.set_ids)) or "–",
                ),
            )
        return None

    def _value(self, line: int, cells: dict[str, Any]) -> float | None:
        raw = cells["value"]
        if _is_blank(raw):
            self.error(line, "value", _("The value is missing."))
            return None
        try:
            value = _parse_float(raw)
        except (ValueError, TypeError):
            value = None
        if value is None or not math.isfinite(value):
            self.error(line, "value", _("“%(value)s” is not a number.", value=_text(raw)[:100]))
            return None
        return value

    def _audit(self, line: int, cells: dict[str, Any]) -> bool | None:
        raw = cells.get("audit")
        if isinstance(raw, bool):
            return raw
        text = _text(raw).lower()
        if not text:
            return None
        if text not in AUDIT_WORDS:
            self.error(
                line,
                "audit",
                _("“%(value)s”: write yes or no (or leave it empty).", value=text[:50]),
            )
            return None
        return AUDIT_WORDS[text]

    def _agree(
        self, planned: PlannedRound, attribute: str, value: Any, line: int, differs: str
    ) -> None:
        """Set ``attribute`` of the round from its first row that names it; a later row that
        names another value is an error (``differs`` names the first row as %(row)d)."""
        first = getattr(planned, f"{attribute}_line")
        if first is None:
            setattr(planned, attribute, value)
            setattr(planned, f"{attribute}_line", line)
        elif value != getattr(planned, attribute):
            self.error(line, attribute, differs % {"row": first})

    def row(self, line: int, cells: dict[str, Any]) -> None:
        cluster = self._cluster(line, cells)
        held_on = self._date(line, cells)
        indicator_set = self._set(line, cells)
        value = self._value(line, cells)
        comment = _text(cells.get("comment"))
        if len(comment) > COMMENT_LIMIT:
            self.error(line, "comment", _("At most %(n)d characters.", n=COMMENT_LIMIT))
        assessor = _text(cells.get("assessor"))
        if len(assessor) > ASSESSOR_LIMIT:
            self.error(line, "assessor", _("At most %(n)d characters.", n=ASSESSOR_LIMIT))
        audit = self._audit(line, cells)
        notes = _text(cells.get("notes"))
        if len(notes) > NOTES_LIMIT:
            self.error(line, "notes", _("At most %(n)d characters.", n=NOTES_LIMIT))
        indicator = None
        indicator_id = _text(cells["indicator"])
        if indicator_set is not None:
            indicator = indicator_set.indicator(indicator_id)
            if indicator is None:
                self.error(
                    line,
                    "indicator",
                    _(
                        "The indicator set %(set)s %(version)s has no indicator “%(id)s”.",
                        set=indicator_set.id,
                        version=indicator_set.version,
                        id=indicator_id,
                    ),
                )
        if indicator is not None and value is not None and not indicator.in_range(value):
            self.error(
                line,
                "value",
                _(
                    "Between %(low)s and %(high)s.",
                    low=f"{indicator.minimum:g}",
                    high=f"{indicator.maximum:g}",
                ),
            )
            value = None
        if cluster is None or held_on is None or indicator_set is None:
            return
        key = (cluster.id, indicator_set.id, indicator_set.version, held_on)
        planned = self.rounds.get(key)
        if planned is None:
            planned = self.rounds[key] = PlannedRound(
                line, cluster.id, cluster.name, held_on, indicator_set
            )
            if key in self.existing:
                self.error(
                    line,
                    "date",
                    _(
                        "%(cluster)s has a round with %(set)s %(version)s on %(date)s already.",
                        cluster=cluster.name,
                        set=indicator_set.id,
                        version=indicator_set.version,
                        date=held_on.isoformat(),
                    ),
                )
        # A round's assessor, audit mark and notes are set by its first row that has them;
        # a later row of the same round may repeat them, never differ.
        if assessor:
            self._agree(
                planned,
                "assessor",
                assessor,
                line,
                _("The assessor differs from row %(row)d of the same round."),
            )
        if audit is not None:
            self._agree(
                planned,
                "audit",
                audit,
                line,
                _("The audit mark differs from row %(row)d of the same round."),
            )
        if notes:
            self._agree(
                planned,
                "notes",
                notes,
                line,
                _("The notes differ from row %(row)d of the same round."),
            )
        if indicator is None:
            return
        if indicator.id in planned.values:
            self.error(
                line,
                "indicator",
                _(
                    "The indicator %(id)s appears twice in this round (also in row %(row)d).",
                    id=indicator.id,
                    row=planned.values[indicator.id].line,
                ),
            )
            return
        if value is not None:
            planned.values[indicator.id] = PlannedValue(
                line, value, indicator.light(value), comment
            )
