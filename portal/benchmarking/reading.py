"""Reading benchmarking rounds as the privacy policy allows (the rounds page and the JSON
API): what a viewer sees of one cluster's rounds, the rounds of the region a viewer may
see, and the indicator sets a region offers for new rounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from portal.benchmarking import services
from portal.benchmarking.indicators import IndicatorSet
from portal.benchmarking.models import BenchmarkRound, RoundKind
from portal.errors import ServiceError
from portal.permissions import may
from portal.privacy.policy import round_shown, rounds_clause, values_view


@dataclass(frozen=True)
class Reading:
    """What a viewer sees of one cluster's rounds: its values at all (``values``), and its
    workings (self-assessments, drafts, history) besides its evidence (``workings``)."""

    values: bool
    workings: bool


def cluster_reading(user: Any, cluster: Any) -> Reading:
    """The privacy policy's answer for one cluster (``round.view``, ``round.workings``)."""
    if not may(user, "round.view", cluster):
        return Reading(False, False)
    return Reading(True, may(user, "round.workings", cluster))


SORTS = {
    "held_on": (BenchmarkRound.held_on, BenchmarkRound.id),
    "-held_on": (BenchmarkRound.held_on.desc(), BenchmarkRound.id.desc()),
}


@dataclass
class RoundFilters:
    cluster_id: int | None = None
    indicator_set: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None
    sort: str = "-held_on"


def visible_rounds_query(user: Any, tenant: Any, filters: RoundFilters) -> Select:
    """The region's rounds whose values ``user`` may see (the privacy policy decides, in
    SQL), filtered and sorted (ties by id), their values loaded with them."""
    stmt = (
        select(BenchmarkRound)
        .where(rounds_clause(values_view(user, tenant)))
        .options(selectinload(BenchmarkRound.values))
    )
    if filters.cluster_id:
        stmt = stmt.where(BenchmarkRound.cluster_id == filters.cluster_id)
    if filters.indicator_set:
        stmt = stmt.where(BenchmarkRound.indicator_set == filters.indicator_set)
    if filters.kind in {k.value for k in RoundKind}:
        stmt = stmt.where(BenchmarkRound.kind == RoundKind(filters.kind))
    if filters.since:
        stmt = stmt.where(BenchmarkRound.held_on >= filters.since)
    if filters.until:
        stmt = stmt.where(BenchmarkRound.held_on <= filters.until)
    return stmt.order_by(*SORTS.get(filters.sort, SORTS["-held_on"]))


def round_visible(user: Any, tenant: Any, round_: BenchmarkRound) -> bool:
    return round_shown(values_view(user, tenant), round_)


def offered_set(tenant_id: int, set_id: str, version: str) -> IndicatorSet | None:
    """The indicator set (id and version) if the region offers it for new rounds."""
    indicator_set = services.find_set(set_id, version)
    if indicator_set is None or indicator_set not in services.available_sets(tenant_id):
        return None
    return indicator_set


def required_set(tenant_id: int, set_id: str, version: str) -> IndicatorSet:
    """``offered_set``, or a ServiceError naming the field (a caller without the round
    form's choice of sets: the JSON API)."""
    indicator_set = offered_set(tenant_id, set_id, version)
    if indicator_set is None:
        message = _(
            "This region does not use the indicator set %(set)s, version %(version)s.",
            set=set_id[:100],
            version=version[:40],
        )
        raise ServiceError(message, {"indicator_set": [message]})
    return indicator_set
