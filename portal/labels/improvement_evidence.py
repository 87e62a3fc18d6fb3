"""Silver evidence from data: "document an improvement" offers each improved indicator with
its two values, the work aimed at it (the cluster's actions and the joint actions it took
part in) and their measured effect, with a text written from them for the manager to edit.
Recording it keeps what the data said that day (``LabelEvidence.data``), so an audit reads
the figures the text was written from even after a round is corrected.

Which two values: the rounds the scheme's rule compared (``RuleResult.compared``), else the
cluster's oldest and newest confirmed rounds with a value for the indicator. Effects are the
core's one method (``portal.improvement``) under the privacy policy of the person
documenting it. A fixed number of queries: the cluster's evidence (four), its work on the
indicators (one, and the plugins'), their values (one per set version).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from portal.benchmarking.indicators import pick
from portal.benchmarking.services import find_set
from portal.formatting import format_date
from portal.i18n import ACTION_STATUS_LABELS
from portal.improvement.measure import Measured, Measurer
from portal.improvement.work import IndicatorKey, region_work
from portal.labels.scheme import ClusterEvidence, RoundData, RuleResult
from portal.privacy.policy import values_view

IMPROVEMENTS_RULE = "improvements"


@dataclass(frozen=True)
class Proposal:
    """One improved indicator, ready to document."""

    scheme: str
    key: IndicatorKey
    name: str
    first: tuple[date, Decimal] | None
    second: tuple[date, Decimal] | None
    work: list[Measured] = field(default_factory=list)

    @property
    def indicator_id(self) -> str:
        return self.key[2]

    def text(self) -> str:
        """The evidence's text as the data tells it, in the current language."""
        lines = []
        if self.first and self.second:
            lines.append(
                _(
                    "%(indicator)s: %(before)s in the benchmarking of %(first)s, %(after)s in "
                    "that of %(second)s.",
                    indicator=self.name,
                    before=_number(self.first[1]),
                    first=format_date(self.first[0]),
                    after=_number(self.second[1]),
                    second=format_date(self.second[0]),
                )
            )
        for measured in self.work:
            lines.append(_work_line(measured))
        if not self.work:
            lines.append(_("No action aimed at this indicator is recorded in the portal."))
        return "\n".join(lines)

    def snapshot(self, today: date) -> dict[str, Any]:
        """What the data said on ``today``, as stored with the evidence (JSON)."""
        return {
            "on": today.isoformat(),
            "indicator": list(self.key),
            "rounds": [[d.isoformat(), str(v)] for d, v in (self.first, self.second) if d],
            "work": [_work_data(m) for m in self.work],
        }


def _number(value: Decimal | None) -> str:
    return "–" if value is None else format_decimal(value, format="#,##0.##")


def _work_line(measured: Measured) -> str:
    work, found = measured.work, measured.effect
    status = work.status_name or ACTION_STATUS_LABELS.get(work.status, work.status)
    head = _(
        "%(kind)s “%(title)s” (%(status)s)",
        kind=work.kind_name or work.kind,
        title=work.title,
        status=status,
    )
    if found.reason == "not_over":
        return head + ": " + _("still running, its effect is not measured yet.")
    if found.worked.change is None:
        return head + ": " + _("no rounds before and after it to measure its effect.")
    line = _(
        "%(work)s: the cluster went from %(before)s to %(after)s",
        work=head,
        before=_number(found.worked.before),
        after=_number(found.worked.after),
    )
    if found.others.change is not None:
        line += ngettext(
            "; the other cluster of the region changed by %(change)s.",
            "; the %(num)d other clusters of the region changed by %(change)s on average.",
            found.others.clusters,
            change=_number(found.others.change),
        )
    else:
        line += "."
    return line


def _work_data(measured: Measured) -> dict[str, Any]:
    found = measured.effect

    def group(g) -> list:
        return [g.clusters, *(None if v is None else str(v) for v in (g.before, g.after, g.change))]

    return {
        "kind": measured.work.kind,
        "id": measured.work.id,
        "title": measured.work.title,
        "status": measured.work.status,
        "window": [
            measured.window.before_day.isoformat(),
            measured.window.after_day.isoformat() if measured.window.after_day else None,
        ],
        "reason": found.reason,
        "worked": group(found.worked),
        "others": group(found.others),
    }


def _value_rounds(
    evidence: ClusterEvidence, indicator_id: str, compared: tuple[date, ...]
) -> tuple[RoundData | None, RoundData | None]:
    with_value = [r for r in evidence.rounds if r.value(indicator_id) is not None]
    with_value.sort(key=lambda r: r.held_on)
    if not with_value:
        return None, None
    if len(compared) == 2:
        by_day = {r.held_on: r for r in with_value}
        if compared[0] in by_day and compared[1] in by_day:
            return by_day[compared[0]], by_day[compared[1]]
    return with_value[0], with_value[-1] if len(with_value) > 1 else None


def improvement_rule(results: Any) -> RuleResult | None:
    """The rule of a level that proposes improved indicators (its ``indicators``)."""
    return next(
        (r for r in results if r.rule == IMPROVEMENTS_RULE and r.indicators),
        None,
    )


def proposals(
    user,
    tenant,
    cluster_id: int,
    scheme_id: str,
    evidence: ClusterEvidence,
    rule: RuleResult,
    today: date,
    locale: str,
) -> list[Proposal]:
    """One proposal per indicator the rule found improved, in its order."""
    picked = []
    for indicator_id in rule.indicators:
        first, second = _value_rounds(evidence, indicator_id, tuple(getattr(rule, "compared", ())))
        newest = second or first
        if newest is None:
            continue
        picked.append(((newest.indicator_set, newest.set_version, indicator_id), first, second))
    keys = [key for key, _first, _second in picked]
    everything = region_work(tenant, keys)  # the others doing such work are left out
    work = [w for w in everything if cluster_id in w.clusters]
    view = values_view(user, tenant)
    if user is None:  # the system writes as the cluster's own circle reads (demo, imports)
        own = frozenset({cluster_id})
        view = replace(view, visible_cluster_ids=own, own_cluster_ids=own)
    measurer = Measurer(tenant, keys, view=view, today=today, work=everything)
    found = []
    for key, first, second in picked:
        indicator_set = find_set(key[0], key[1])
        indicator = indicator_set.indicator(key[2]) if indicator_set else None
        name = pick(indicator.name, locale) if indicator is not None else key[2]
        mine = sorted((w for w in work if w.key == key), key=lambda w: (w.kind, w.id))
        found.append(
            Proposal(
                scheme_id,
                key,
                name,
                (first.held_on, first.value(key[2])) if first else None,
                (second.held_on, second.value(key[2])) if second else None,
                [measurer.measure(w) for w in mine],
            )
        )
    return found
