"""Labels: loading a cluster's evidence for the rules, checking and awarding."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.benchmarking.models import BenchmarkRound
from portal.extensions import db
from portal.labels.models import Label, LabelEvidence
from portal.labels.scheme import (
    ClusterEvidence,
    Eligibility,
    EvidenceData,
    LabelData,
    LabelScheme,
    RoundData,
)


def cluster_evidence(cluster_id: int) -> ClusterEvidence:
    """A cluster's rounds (with their values), labels and recorded evidence: four queries,
    whatever the size."""
    rounds = db.session.scalars(
        select(BenchmarkRound)
        .where(BenchmarkRound.cluster_id == cluster_id)
        .options(selectinload(BenchmarkRound.values))
    ).all()
    labels = db.session.scalars(select(Label).where(Label.cluster_id == cluster_id)).all()
    evidence = db.session.scalars(
        select(LabelEvidence).where(LabelEvidence.cluster_id == cluster_id)
    ).all()
    return ClusterEvidence(
        rounds=tuple(
            RoundData(
                r.held_on,
                r.indicator_set,
                r.set_version,
                {v.indicator_id: (v.value, v.light) for v in r.values},
                r.audit,
            )
            for r in rounds
        ),
        labels=tuple(
            LabelData(lbl.scheme, lbl.level, lbl.awarded_on, lbl.expires_on) for lbl in labels
        ),
        evidence=tuple(
            EvidenceData(e.kind, e.recorded_on, e.indicator_id, e.text) for e in evidence
        ),
    )


@dataclass(frozen=True)
class Check:
    scheme: LabelScheme
    on: date
    levels: tuple[Eligibility, ...]
    next_level: str | None


def check(scheme: LabelScheme, cluster_id: int, on: date) -> Check:
    evidence = cluster_evidence(cluster_id)
    nxt = scheme.next_level(evidence, on)
    return Check(scheme, on, tuple(scheme.evaluate(evidence, on)), nxt.id if nxt else None)
