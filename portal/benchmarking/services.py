"""Benchmarking rounds: entering values, traffic lights, the grid and round comparisons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import User
from portal.benchmarking.indicators import IndicatorSet
from portal.benchmarking.models import BenchmarkRound, IndicatorValue, RoundCorrection, RoundKind
from portal.clusters.models import Cluster
from portal.db import utcnow
from portal.errors import ServiceError
from portal.events import emit
from portal.extensions import db
from portal.permissions import may, require


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


def role_name(user: User | None, tenant_id: int) -> str:
    """The role a person acts in, as recorded with what they enter ("system" for jobs)."""
    from portal.permissions import role_in

    if user is None:
        return "system"
    if user.is_platform_admin:
        return "platform_admin"
    role = role_in(user, tenant_id)
    return str(role) if role is not None else ""


def _kind_of(data: dict[str, Any], existing: BenchmarkRound | None) -> RoundKind:
    if data.get("kind"):
        try:
            return RoundKind(data["kind"])
        except ValueError:
            raise ServiceError(
                _("Check the marked values."), {"kind": [_("Choose a kind of round.")]}
            ) from None
    if "audit" in data:  # callers that predate the kinds
        return RoundKind.AUDIT if data["audit"] else RoundKind.BENCHMARKING
    return existing.kind if existing is not None else RoundKind.BENCHMARKING


def may_enter(user: User | None, cluster: Cluster, kind: RoundKind) -> bool:
    """Self-assessments: the cluster's managers (and coordinators); benchmarkings and
    audits: assessors, and coordinators on an expert's behalf."""
    if user is None:
        return True
    action = "round.self_assess" if kind == RoundKind.SELF_ASSESSMENT else "round.assess"
    return may(user, action, cluster)


def _require_kind(user: User, cluster: Cluster, kind: RoundKind) -> None:
    """403 (and an audit entry) unless the user may enter this kind of round."""
    if not may_enter(user, cluster, kind):
        from portal.audit.services import record_denied

        record_denied(user, f"round.enter.{kind}", cluster)
        abort(403)


def save_round(
    user: User | None,
    cluster: Cluster,
    indicator_set: IndicatorSet,
    data: dict[str, Any],
    values: dict[str, tuple[float | None, str]],
    existing: BenchmarkRound | None = None,
) -> BenchmarkRound:
    """Create or change a round; every value is checked against its indicator's scale.

    ``data``: held_on, kind (or the older audit flag), assessor, notes, and confirm (a
    benchmarking or audit whose result is final: locked from then on; by default only
    rounds the system enters are confirmed at once). A confirmed round is changed only by
    :func:`correct_round`."""
    kind = _kind_of(data, existing)
    if user is not None:
        require(user, "round.manage", cluster)
        _require_kind(user, cluster, kind)
        if existing is not None:
            _require_kind(user, cluster, existing.kind)
    if existing is not None and existing.locked:
        raise ServiceError(
            _("This round is confirmed and locked. An assessor corrects it, with a reason.")
        )
    errors = _check_values(indicator_set, values)
    if data.get("held_on") and data["held_on"] > date.today():
        errors["held_on"] = [_("A round cannot be in the future.")]
    assessor = (data.get("assessor") or "").strip()
    if kind != RoundKind.SELF_ASSESSMENT and not assessor and user is not None:
        # An expert's result: an assessor's own by default; a coordinator names the expert.
        if role_name(user, cluster.tenant_id) == "assessor":
            assessor = user.name
        else:
            errors["assessor"] = [_("Name the expert whose result this is.")]
    if errors:
        raise ServiceError(_("Check the marked values."), errors)
    _refuse_same_day(cluster, indicator_set, data["held_on"], existing, kind)
    created = existing is None
    round_ = existing or BenchmarkRound(
        tenant_id=cluster.tenant_id,
        cluster_id=cluster.id,
        indicator_set=indicator_set.id,
        set_version=indicator_set.version,
        entered_by_id=user.id if user is not None else None,
        entered_role=role_name(user, cluster.tenant_id),
    )
    round_.held_on = data["held_on"]
    round_.assessor = assessor
    round_.notes = (data.get("notes") or "").strip()
    round_.kind = kind
    if kind != RoundKind.SELF_ASSESSMENT and data.get("confirm", user is None):
        round_.confirmed_at = utcnow()
        round_.confirmed_by_id = user.id if user is not None else None
    if not created:
        round_.updated_at = utcnow()  # values changed count as a change of the round (ETags)
    if created:
        db.session.add(round_)
        db.session.flush()
    _write_values(round_, indicator_set, values)
    try:
        db.session.commit()
    except IntegrityError:  # a round saved at the same moment
        db.session.rollback()
        raise _duplicate() from None
    emit("round_saved", cluster.tenant_id, round=round_, created=created, user=user)
    return round_


def _refuse_same_day(cluster, indicator_set, held_on, existing, kind: RoundKind) -> None:
    """One round of each kind per cluster, set version and day."""
    same_day = select(BenchmarkRound.id).where(
        BenchmarkRound.cluster_id == cluster.id,
        BenchmarkRound.indicator_set == indicator_set.id,
        BenchmarkRound.set_version == indicator_set.version,
        BenchmarkRound.held_on == held_on,
        BenchmarkRound.kind == kind,
    )
    if existing is not None:
        same_day = same_day.where(BenchmarkRound.id != existing.id)
    if db.session.scalar(same_day) is not None:
        raise _duplicate()


def _write_values(round_: BenchmarkRound, indicator_set: IndicatorSet, values) -> None:
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
                tenant_id=round_.tenant_id, round_id=round_.id, indicator_id=indicator.id
            )
            db.session.add(row)
        row.value, row.light, row.comment = value, indicator.light(value), (comment or "").strip()


def confirm_round(user: User | None, round_: BenchmarkRound) -> BenchmarkRound:
    """The expert's result is final: the benchmarking or audit is locked and label rules and
    comparisons read it from now on."""
    if user is not None:
        require(user, "round.assess", round_)
    if round_.kind == RoundKind.SELF_ASSESSMENT:
        raise ServiceError(_("A self-assessment is not confirmed: it never counts as evidence."))
    if round_.confirmed:
        raise ServiceError(_("This round is confirmed already."))
    round_.confirmed_at = utcnow()
    round_.confirmed_by_id = user.id if user is not None else None
    db.session.commit()
    emit("round_saved", round_.tenant_id, round=round_, created=False, user=user)
    return round_


def correct_round(
    user: User | None,
    round_: BenchmarkRound,
    indicator_set: IndicatorSet,
    data: dict[str, Any],
    values: dict[str, tuple[float | None, str]],
) -> BenchmarkRound:
    """A confirmed round corrected by an assessor, with a reason: the replaced revision is
    kept (its values as they were) and the round holds the new one."""
    if user is not None:
        require(user, "round.correct", round_)
    if not round_.locked:
        raise ServiceError(_("Only a confirmed round is corrected; change a draft directly."))
    reason = (data.get("reason") or "").strip()
    errors = _check_values(indicator_set, values)
    if not reason:
        errors["reason"] = [_("Say why the confirmed result is corrected.")]
    if data.get("held_on") and data["held_on"] > date.today():
        errors["held_on"] = [_("A round cannot be in the future.")]
    if errors:
        raise ServiceError(_("Check the marked values."), errors)
    _refuse_same_day(round_.cluster, indicator_set, data["held_on"], round_, round_.kind)
    db.session.add(
        RoundCorrection(
            tenant_id=round_.tenant_id,
            round_id=round_.id,
            revision=round_.revision,
            reason=reason[:5000],
            corrected_by_id=user.id if user is not None else None,
            corrected_at=utcnow(),
            previous={
                "held_on": round_.held_on.isoformat(),
                "assessor": round_.assessor,
                "notes": round_.notes,
                "values": {
                    v.indicator_id: [v.value, v.light, v.comment]
                    for v in sorted(round_.values, key=lambda v: v.indicator_id)
                },
            },
        )
    )
    round_.revision += 1
    round_.held_on = data["held_on"]
    round_.assessor = (data.get("assessor") or "").strip() or round_.assessor
    round_.notes = (data.get("notes") or "").strip()
    round_.updated_at = utcnow()
    _write_values(round_, indicator_set, values)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _duplicate() from None
    emit("round_saved", round_.tenant_id, round=round_, created=False, user=user)
    return round_


def _duplicate() -> ServiceError:
    return ServiceError(
        _("This cluster has a round with this set on that date already."),
        {"held_on": [_("A round on this date exists already.")]},
    )


def delete_round(user: User | None, round_: BenchmarkRound) -> None:
    if user is not None:
        require(user, "round.manage", round_)
        _require_kind(user, round_.cluster, round_.kind)
    if round_.locked:
        raise ServiceError(
            _("This round is confirmed and locked: it is kept. An assessor corrects it.")
        )
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


def cluster_grids(cluster_id: int, *, evidence_only: bool = False) -> list[Grid]:
    """One grid per indicator set the cluster was benchmarked against: two queries in all.
    ``evidence_only``: its confirmed benchmarkings and audits, not its workings (what a
    sharing choice shows)."""
    query = select(BenchmarkRound).where(BenchmarkRound.cluster_id == cluster_id)
    if evidence_only:
        query = query.where(BenchmarkRound.counts_as_evidence())
    rounds = db.session.scalars(query.order_by(BenchmarkRound.held_on, BenchmarkRound.id)).all()
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
