"""Benchmarking rounds: entering values, traffic lights, the grid and round comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.benchmarking.indicators import IndicatorSet
from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.clusters.models import Cluster
from portal.db import utcnow
from portal.errors import ServiceError
from portal.events import emit
from portal.extensions import db
from portal.permissions import require


def registry() -> dict[tuple[str, str], tuple[str, IndicatorSet]]:
    """Every installed indicator set by (id, version), with the plugin that ships it."""
    return current_app.extensions["portal_plugins"].versioned("indicator_sets")


def available_sets(tenant_id: int) -> list[IndicatorSet]:
    """Sets of the plugins this tenant switched on, newest version first per set."""
    sets = current_app.extensions["portal_plugins"].versioned_for("indicator_sets", tenant_id)
    return sorted(sets, key=lambda s: (s.id, s.version), reverse=True)


def indicator_names(tenant_id: int, locale: str) -> dict[str, str]:
    """Indicator id -> name in the language, over the tenant's sets (the newest version wins)."""
    from portal.benchmarking.indicators import pick

    names: dict[str, str] = {}
    for indicator_set in reversed(available_sets(tenant_id)):  # oldest first: newer overwrite
        names.update({i.id: pick(i.name, locale) for i in indicator_set.indicators})
    return names


def find_set(set_id: str, version: str) -> IndicatorSet | None:
    entry = registry().get((set_id, version))
    return entry[1] if entry else None


def _check_values(
    indicator_set: IndicatorSet, values: dict[str, tuple[float | None, str]]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for indicator in indicator_set.indicators:
        value, _comment = values.get(indicator.id, (None, ""))
        if value is not None and not indicator.in_range(value):
            errors[indicator.id] = [
                _(
                    "Between %(low)s and %(high)s.",
                    low=f"{indicator.minimum:g}",
                    high=f"{indicator.maximum:g}",
                )
            ]
    unknown = set(values) - {i.id for i in indicator_set.indicators}
    if unknown:
        errors["_unknown"] = [_("Unknown indicators: %(ids)s", ids=", ".join(sorted(unknown)))]
    if not any(v is not None for v, _c in values.values()):
        errors["_empty"] = [_("Enter at least one value.")]
    return errors


def save_round(
    user: User | None,
    cluster: Cluster,
    indicator_set: IndicatorSet,
    data: dict[str, Any],
    values: dict[str, tuple[float | None, str]],
    existing: BenchmarkRound | None = None,
) -> BenchmarkRound:
    """Create or change a round; every value is checked against its indicator's scale."""
    if user is not None:
        require(user, "round.manage", cluster)
    errors = _check_values(indicator_set, values)
    if data.get("held_on") and data["held_on"] > date.today():
        errors["held_on"] = [_("A round cannot be in the future.")]
    if errors:
        raise ServiceError(_("Check the marked values."), errors)
    same_day = select(BenchmarkRound.id).where(
        BenchmarkRound.cluster_id == cluster.id,
        BenchmarkRound.indicator_set == indicator_set.id,
        BenchmarkRound.set_version == indicator_set.version,
        BenchmarkRound.held_on == data["held_on"],
    )
    if existing is not None:
        same_day = same_day.where(BenchmarkRound.id != existing.id)
    if db.session.scalar(same_day) is not None:
        raise _duplicate()
    created = existing is None
    round_ = existing or BenchmarkRound(
        tenant_id=cluster.tenant_id,
        cluster_id=cluster.id,
        indicator_set=indicator_set.id,
        set_version=indicator_set.version,
    )
    round_.held_on = data["held_on"]
    round_.assessor = (data.get("assessor") or "").strip()
    round_.notes = (data.get("notes") or "").strip()
    round_.audit = bool(data.get("audit"))
    if not created:
        round_.updated_at = utcnow()  # values changed count as a change of the round (ETags)
    if created:
        db.session.add(round_)
        db.session.flush()
    current = {v.indicator_id: v for v in round_.values}
    for indicator in indicator_set.indicators:
        value, comment = values.get(indicator.id, (None, ""))
        row = current.get(indicator.id)
        if value is None:
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = IndicatorValue(
                tenant_id=cluster.tenant_id, round_id=round_.id, indicator_id=indicator.id
            )
            db.session.add(row)
        row.value, row.light, row.comment = value, indicator.light(value), (comment or "").strip()
    try:
        db.session.commit()
    except IntegrityError:  # a round saved at the same moment
        db.session.rollback()
        raise _duplicate() from None
    emit("round_saved", cluster.tenant_id, round=round_, created=created, user=user)
    return round_


def _duplicate() -> ServiceError:
    return ServiceError(
        _("This cluster has a round with this set on that date already."),
        {"held_on": [_("A round on this date exists already.")]},
    )


def delete_round(user: User | None, round_: BenchmarkRound) -> None:
    if user is not None:
        require(user, "round.manage", round_)
    db.session.delete(round_)
    db.session.commit()


@dataclass
class Grid:
    """Indicators (rows) by rounds (columns) of one cluster and one indicator set."""

    indicator_set: IndicatorSet | None
    rounds: list[BenchmarkRound]
    cells: dict[str, dict[int, IndicatorValue]]  # indicator id -> round id -> value

    def counts(self, round_id: int) -> dict[str, int]:
        result = {"green": 0, "yellow": 0, "red": 0}
        for by_round in self.cells.values():
            value = by_round.get(round_id)
            if value is not None:
                result[value.light] += 1
        return result


def cluster_grids(cluster_id: int) -> list[Grid]:
    """One grid per indicator set the cluster was benchmarked against: two queries in all."""
    rounds = db.session.scalars(
        select(BenchmarkRound)
        .where(BenchmarkRound.cluster_id == cluster_id)
        .order_by(BenchmarkRound.held_on, BenchmarkRound.id)
    ).all()
    values = db.session.scalars(
        select(IndicatorValue).where(IndicatorValue.round_id.in_([r.id for r in rounds] or [-1]))
    ).all()
    by_round: dict[int, list[IndicatorValue]] = {}
    for value in values:
        by_round.setdefault(value.round_id, []).append(value)
    grids: dict[str, Grid] = {}
    for round_ in rounds:
        grid = grids.get(round_.indicator_set)
        if grid is None:
            newest = max(
                (s for (sid, _v), (_p, s) in registry().items() if sid == round_.indicator_set),
                key=lambda s: s.version,
                default=None,
            )
            grid = grids[round_.indicator_set] = Grid(newest, [], {})
        grid.rounds.append(round_)
        for value in by_round.get(round_.id, []):
            grid.cells.setdefault(value.indicator_id, {})[round_.id] = value
    return list(grids.values())


@dataclass
class Change:
    indicator_id: str
    old: IndicatorValue | None
    new: IndicatorValue | None
    verdict: str  # improved, declined, same, or "" when a value is missing


def compare(indicator_set: IndicatorSet, old: BenchmarkRound, new: BenchmarkRound) -> list[Change]:
    """What changed per indicator between two rounds of the same set (by indicator id)."""
    olds = {v.indicator_id: v for v in old.values}
    news = {v.indicator_id: v for v in new.values}
    changes = []
    for indicator in indicator_set.indicators:
        a, b = olds.get(indicator.id), news.get(indicator.id)
        verdict = indicator.compare(a.value, b.value) if a is not None and b is not None else ""
        changes.append(Change(indicator.id, a, b, verdict))
    return changes
