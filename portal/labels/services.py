"""Labels: loading a cluster's evidence for the rules, checking and awarding."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.benchmarking.models import BenchmarkRound, IndicatorValue, RoundKind
from portal.benchmarking.services import role_name
from portal.extensions import db
from portal.labels.models import Label, LabelEvidence
from portal.labels.scheme import (
    ClusterEvidence,
    Eligibility,
    EvidenceData,
    LabelData,
    LabelScheme,
    RoundData,
    exact,
)


def cluster_evidence(cluster_id: int) -> ClusterEvidence:
    """A cluster's rounds (with their values), labels and recorded evidence: four queries,
    whatever the size. Only confirmed benchmarkings and audits are evidence (never a
    self-assessment, never a draft); a corrected round is read as corrected. Values become
    exact decimals (a stored 3.1 is Decimal("3.1")); each piece of evidence keeps the day it
    happened (``recorded_on``), not the day it was typed in (``created_at``)."""
    return clusters_evidence([cluster_id]).get(cluster_id, ClusterEvidence())


def clusters_labels(cluster_ids: Collection[int] | None) -> dict[int, ClusterEvidence]:
    """The clusters' labels alone, as ``ClusterEvidence`` without rounds or recorded evidence
    (what a held label's dates need): one query."""
    stmt = select(Label)
    if cluster_ids is not None:
        stmt = stmt.where(Label.cluster_id.in_(list(cluster_ids)))
    found: dict[int, list[LabelData]] = {}
    for lbl in db.session.scalars(stmt):
        found.setdefault(lbl.cluster_id, []).append(
            LabelData(lbl.scheme, lbl.level, lbl.awarded_on, lbl.expires_on)
        )
    return {
        cluster_id: ClusterEvidence(labels=tuple(labels)) for cluster_id, labels in found.items()
    }


def clusters_evidence(cluster_ids: Collection[int] | None) -> dict[int, ClusterEvidence]:
    """``cluster_evidence`` of many clusters at once (None: every cluster of the tenant in
    scope), by cluster id: the same four queries, whatever the number of clusters."""

    def of(stmt, column):
        return stmt if cluster_ids is None else stmt.where(column.in_(list(cluster_ids)))

    # Plain rows, the values in one query (not ``selectinload``, which asks again for every
    # 500 rounds): the same four queries at 2,000 clusters as at 20.
    rounds = db.session.execute(
        of(
            select(
                BenchmarkRound.id,
                BenchmarkRound.cluster_id,
                BenchmarkRound.held_on,
                BenchmarkRound.indicator_set,
                BenchmarkRound.set_version,
                BenchmarkRound.kind,
            ),
            BenchmarkRound.cluster_id,
        )
        .where(BenchmarkRound.counts_as_evidence())
        .order_by(BenchmarkRound.id)
    ).all()
    values: dict[int, dict] = {r.id: {} for r in rounds}
    for round_id, indicator_id, value, light in db.session.execute(
        of(
            select(
                IndicatorValue.round_id,
                IndicatorValue.indicator_id,
                IndicatorValue.value,
                IndicatorValue.light,
            ).join(BenchmarkRound, BenchmarkRound.id == IndicatorValue.round_id),
            BenchmarkRound.cluster_id,
        ).where(BenchmarkRound.counts_as_evidence())
    ):
        if round_id in values:
            values[round_id][indicator_id] = (exact(value), light)
    labels = clusters_labels(cluster_ids)
    evidence = db.session.scalars(of(select(LabelEvidence), LabelEvidence.cluster_id)).all()
    found: dict[int, dict[str, list]] = {}

    def bucket(cluster_id: int) -> dict[str, list]:
        return found.setdefault(cluster_id, {"rounds": [], "labels": [], "evidence": []})

    for r in rounds:
        bucket(r.cluster_id)["rounds"].append(
            RoundData(
                r.held_on,
                r.indicator_set,
                r.set_version,
                values[r.id],
                r.kind == RoundKind.AUDIT,
                str(r.kind),
            )
        )
    for cluster_id, held in labels.items():
        bucket(cluster_id)["labels"].extend(held.labels)
    for e in evidence:
        bucket(e.cluster_id)["evidence"].append(
            EvidenceData(e.kind, e.recorded_on, e.indicator_id, e.text, e.scheme)
        )
    return {
        cluster_id: ClusterEvidence(
            rounds=tuple(parts["rounds"]),
            labels=tuple(parts["labels"]),
            evidence=tuple(parts["evidence"]),
        )
        for cluster_id, parts in found.items()
    }


def recorded_evidence(cluster_id: int) -> list[LabelEvidence]:
    """The cluster's recorded evidence with who recorded it: newest happening first."""
    return list(
        db.session.scalars(
            select(LabelEvidence)
            .where(LabelEvidence.cluster_id == cluster_id)
            .options(selectinload(LabelEvidence.recorded_by))
            .order_by(LabelEvidence.recorded_on.desc(), LabelEvidence.id.desc())
        )
    )


def rounds_not_counted(cluster_id: int) -> dict[str, int]:
    """How many of the cluster's rounds label rules do not read: self-assessments, drafts."""
    from sqlalchemy import func

    from portal.benchmarking.models import RoundKind

    rows = db.session.execute(
        select(BenchmarkRound.kind, BenchmarkRound.confirmed_at.is_(None), func.count())
        .where(BenchmarkRound.cluster_id == cluster_id, ~BenchmarkRound.counts_as_evidence())
        .group_by(BenchmarkRound.kind, BenchmarkRound.confirmed_at.is_(None))
    ).all()
    found = {"self_assessment": 0, "draft": 0}
    for kind, _unconfirmed, count in rows:
        found["self_assessment" if kind == RoundKind.SELF_ASSESSMENT else "draft"] += count
    return found


@dataclass(frozen=True)
class Check:
    scheme: LabelScheme
    on: date
    levels: tuple[Eligibility, ...]
    next_level: str | None
    # Per level: the label held on ``on`` (if any; the one that lasts longest) and the
    # expiry an award on ``on`` would get.
    held: dict[str, LabelData] = field(default_factory=dict)
    would_expire: dict[str, date] = field(default_factory=dict)

    @property
    def held_labels(self) -> list[tuple[Any, LabelData]]:
        """(level, label) of every level held on ``on``, lowest level first."""
        return [(lvl, self.held[lvl.id]) for lvl in self.scheme.levels if lvl.id in self.held]


def check(
    scheme: LabelScheme, cluster_id: int, on: date, evidence: ClusterEvidence | None = None
) -> Check:
    """Every level's verdicts on ``on`` (only what happened up to that day counts); pass
    ``evidence`` to check several schemes on one load."""
    evidence = evidence if evidence is not None else cluster_evidence(cluster_id)
    nxt = scheme.next_level(evidence, on)
    held = {}
    for label in sorted(evidence.held(scheme.id, on), key=lambda lbl: lbl.expires_on):
        held[label.level] = label
    would_expire = {level.id: level.expiry(evidence, on) for level in scheme.levels}
    return Check(
        scheme,
        on,
        tuple(scheme.evaluate(evidence, on)),
        nxt.id if nxt else None,
        held,
        would_expire,
    )


def path_checks(user: Any, cluster: Any, on: date) -> list[Check] | None:
    """The "path to the next label" of the cluster on ``on``, one check per current scheme,
    for a viewer the privacy policy shows the cluster's values (the verdicts quote them and
    its evidence); None for anyone else. Awarded labels are not part of it: they are public
    in the region (:func:`cluster_labels`)."""
    from portal.permissions import may

    if not may(user, "round.view", cluster):
        return None
    evidence = cluster_evidence(cluster.id)  # once for every scheme
    return [
        check(scheme, cluster.id, on, evidence) for scheme in current_schemes(cluster.tenant_id)
    ]


def cluster_labels_query(cluster_id: int):
    """The labels a cluster was awarded, newest first (ties by id)."""
    return (
        select(Label)
        .where(Label.cluster_id == cluster_id)
        .order_by(Label.awarded_on.desc(), Label.id.desc())
    )


def cluster_labels(cluster_id: int) -> list[Label]:
    return list(db.session.scalars(cluster_labels_query(cluster_id)))


def register_query(filters: Any, today: date):
    """The region's label register (the labels page and the JSON API), filtered like the
    public register (``public_register.Filters``: status, expiring within, level, scheme),
    newest expiry first, then by id."""
    from sqlalchemy.orm import joinedload

    from portal.labels.public_register import filtered_labels

    return filtered_labels(select(Label).options(joinedload(Label.cluster)), filters, today)


def current_schemes_all_versions(tenant_id: int) -> list[LabelScheme]:
    """Every version of each scheme whose plugin the tenant switched on."""
    from flask import current_app

    return list(current_app.extensions["portal_plugins"].versioned_for("label_schemes", tenant_id))


def current_schemes(tenant_id: int) -> list[LabelScheme]:
    """The newest version of each scheme whose plugin the tenant switched on."""
    newest: dict[str, LabelScheme] = {}
    for scheme in current_schemes_all_versions(tenant_id):
        if scheme.id not in newest or scheme.version > newest[scheme.id].version:
            newest[scheme.id] = scheme
    return sorted(newest.values(), key=lambda s: s.id)


def record_evidence(
    user,
    cluster,
    scheme_id: str,
    kind: str,
    text: str,
    indicator_id: str = "",
    on: date | None = None,
    data: dict | None = None,
) -> LabelEvidence:
    """Record a piece of evidence that happened on ``on`` (default: today; never a day in the
    future). When it was typed in is kept apart (``created_at``); ``data``: what the data said
    when it was written from it (``portal.labels.improvement_evidence``)."""
    from flask_babel import gettext as _

    from portal.errors import ServiceError
    from portal.permissions import require

    if kind not in {"improvement", "expert_review"}:
        raise ServiceError(_("Unknown kind of evidence."))
    if user is not None:
        # Improvements: the cluster's people document them; an expert's review is the
        # expert's (coordinators may record it on the expert's behalf).
        require(user, "label.review" if kind == "expert_review" else "label.evidence", cluster)
    text = (text or "").strip()
    if not text:
        raise ServiceError(_("Describe the evidence."), {"text": [_("Describe the evidence.")]})
    on = on or date.today()
    if on > date.today():
        message = _(
            "The evidence cannot have happened in the future: give today or an earlier day."
        )
        raise ServiceError(message, {"on": [message]})
    evidence = LabelEvidence(
        tenant_id=cluster.tenant_id,
        cluster_id=cluster.id,
        scheme=scheme_id,
        kind=kind,
        indicator_id=indicator_id or "",
        text=text[:5000],
        recorded_on=on,
        recorded_by_id=user.id if user is not None else None,
        recorded_role=role_name(user, cluster.tenant_id),
        data=data,
    )
    db.session.add(evidence)
    db.session.commit()
    return evidence


def award(
    user,
    cluster,
    scheme: LabelScheme,
    level_id: str,
    on: date,
    score: float | None = None,
    notes: str = "",
) -> Label:
    """Award a level after checking every rule on that day (a past day for a real award of
    that day: only what happened up to it counts); records who decided. A label that would
    expire on or before its own day is refused."""
    from flask_babel import gettext as _

    from portal.errors import ServiceError
    from portal.formatting import format_date
    from portal.permissions import require

    if user is not None:
        require(user, "label.award", cluster)
    level = scheme.level(level_id)
    if level is None:
        raise ServiceError(_("Unknown level."))
    if on > date.today():
        raise ServiceError(_("A label cannot be awarded in the future."))
    evidence = cluster_evidence(cluster.id)
    results = next(e for e in scheme.evaluate(evidence, on) if e.level.id == level_id)
    if not results.eligible:
        unmet = "; ".join(f"{r.title}: {r.reason}" for r in results.results if r.verdict != "met")
        raise ServiceError(_("Not every rule is met: %(rules)s", rules=unmet))
    expires_on = level.expiry(evidence, on)
    if expires_on <= on:
        raise ServiceError(
            _(
                "Awarded on %(on)s, the label would already expire on %(date)s, with the "
                "benchmarking it rests on. A new benchmarking is needed first.",
                on=format_date(on),
                date=format_date(expires_on),
            )
        )
    ranks = {lvl.id: i for i, lvl in enumerate(scheme.levels)}
    covering = [
        lbl
        for lbl in evidence.held(scheme.id, on)
        if ranks.get(lbl.level, -1) >= ranks[level_id] and lbl.expires_on >= expires_on
    ]
    if covering:
        raise ServiceError(
            _(
                "The cluster holds this label (or a higher one) until %(date)s already; "
                "awarding it now would not extend it.",
                date=format_date(covering[0].expires_on),
            )
        )
    label = Label(
        tenant_id=cluster.tenant_id,
        cluster_id=cluster.id,
        scheme=scheme.id,
        scheme_version=scheme.version,
        level=level_id,
        awarded_on=on,
        expires_on=expires_on,
        score=score,
        decided_by_id=user.id if user is not None else None,
        notes=(notes or "").strip(),
    )
    db.session.add(label)
    from portal.notifications.producers import label_awarded

    label_awarded(label, user)
    db.session.commit()
    return label
