"""Demo rounds and labels (idempotent): in each demo region, by cluster name order,

* the first cluster holds bronze from a round 20 months ago (awarded on its real, past day):
  it expires within 6 months; the expert's next benchmarking, on part of the set, is a draft
  (a partial round, not yet confirmed);
* the second has two rounds 13 months apart with improvements, documented, and an expert
  review: eligible for silver (a coordinator can award it); last month its team also scored
  itself (a self-assessment, never evidence);
* the third holds silver and had an audit round last month, confirmed and then corrected by
  the expert with a reason (the first result stays in its history): the total is above 80 %
  but two indicators are below their minimum, so it is close to gold.

Every round, label and piece of evidence goes through the toolkit, as a third party's plugin
would do it. A cluster that has rounds already is left alone.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from portal.toolkit import (
    Cluster,
    add_months,
    award_label,
    cluster_evidence,
    correct_round,
    db,
    record_label_evidence,
    save_round,
    tenant_scope,
)

ASSESSOR = "ESCA expert (demo)"
# The demo's notes in its region's language (the Norwegian and the Danish region).
WORDS = {
    "nb": {
        "assessor": "ESCA-ekspert (demo)",
        "workshops": "Felles verksteder med medlemmene om temaet; målt i medlemsundersøkelsen.",
        "review": "Anbefalt for sølvmerket etter evalueringsmøtet.",
        "own": "Vår egen vurdering før neste benchmarking.",
        "annual": "Dokumentert i årsrapporten.",
        "silver": "Sølvmerket anbefales.",
        "typo": "Skrivefeil i revisjonsrapporten: mediedekning fikk 2, ikke 3.",
    },
    "da": {
        "assessor": "ESCA-ekspert (demo)",
        "workshops": "Fælles workshops med medlemmerne om emnet; målt i medlemsundersøgelsen.",
        "review": "Anbefalet til sølvmærket efter evalueringsmødet.",
        "own": "Vores egen vurdering før næste benchmarking.",
        "annual": "Dokumenteret i årsrapporten.",
        "silver": "Sølvmærket anbefales.",
        "typo": "Tastefejl i revisionsrapporten: mediedækning fik 2, ikke 3.",
    },
}
WORDS["en"] = {
    "assessor": ASSESSOR,
    "workshops": "Joint workshops with the members on this topic; measured in the member survey.",
    "review": "Recommended for silver after the review meeting.",
    "own": "Our own scoring before the next benchmarking.",
    "annual": "Documented in the annual report.",
    "silver": "Silver recommended.",
    "typo": "Typing error in the audit report: media recognition scored 2, not 3.",
}


def _values(indicator_set, rng: random.Random, base: int, spread=(0, 1)) -> dict[str, float]:
    return {
        i.id: float(min(i.maximum, max(i.minimum, base + rng.choice(spread))))
        for i in indicator_set.indicators
    }


def _bronze_expiring(cluster, indicator_set, scheme, today: date, rng, words: dict) -> None:
    ASSESSOR = words["assessor"]  # noqa: N806 - the region's word for the demo's expert
    held_on = add_months(today, -20).replace(day=1)
    save_round(
        cluster,
        indicator_set,
        held_on,
        _values(indicator_set, rng, 2, (0, 1, 1, 2)),
        assessor=ASSESSOR,
    )
    award_label(cluster, scheme, "bronze", held_on + timedelta(days=20), score=None)
    # The expert's renewal benchmarking, begun last month on part of the set: a draft.
    partial = _values(indicator_set, rng, 2, (0, 1, 1, 2))
    partial = {k: v for n, (k, v) in enumerate(partial.items()) if n < 18}
    save_round(
        cluster,
        indicator_set,
        add_months(today, -1).replace(day=1),
        partial,
        assessor=ASSESSOR,
        confirm=False,
    )


def _silver_eligible(cluster, indicator_set, scheme, today: date, rng, words: dict) -> None:
    ASSESSOR = words["assessor"]  # noqa: N806 - the region's word for the demo's expert
    first_day = add_months(today, -15).replace(day=1)
    first = _values(indicator_set, rng, 3, (-1, 0, 0))
    save_round(cluster, indicator_set, first_day, first, assessor=ASSESSOR)
    award_label(cluster, scheme, "bronze", first_day + timedelta(days=14))
    improved = ["engagement", "services", "communication", "strategy_process", "cooperation"]
    second = dict(first)
    for indicator_id in improved:
        second[indicator_id] = min(5.0, first[indicator_id] + 2)
    save_round(cluster, indicator_set, add_months(first_day, 13), second, assessor=ASSESSOR)
    for indicator_id in improved[:3]:
        record_label_evidence(
            cluster,
            scheme.id,
            "improvement",
            words["workshops"],
            indicator_id=indicator_id,
            on=today - timedelta(days=20),
        )
    record_label_evidence(
        cluster,
        scheme.id,
        "expert_review",
        words["review"],
        on=today - timedelta(days=10),
    )
    # The team's own scoring last month, for its plan: a self-assessment, never evidence.
    save_round(
        cluster,
        indicator_set,
        add_months(today, -1).replace(day=1),
        {k: min(5.0, v + 1) for k, v in second.items()},
        kind="self_assessment",
        notes=words["own"],
    )


def _close_to_gold(cluster, indicator_set, scheme, today: date, rng, words: dict) -> None:
    ASSESSOR = words["assessor"]  # noqa: N806 - the region's word for the demo's expert
    first_day = add_months(today, -30).replace(day=1)
    first = _values(indicator_set, rng, 3, (0, 0, 1))
    save_round(cluster, indicator_set, first_day, first, assessor=ASSESSOR)
    second_day = add_months(first_day, 14)
    second = {k: min(5.0, v + 1) for k, v in first.items()}
    save_round(cluster, indicator_set, second_day, second, assessor=ASSESSOR)
    improved = [k for k in second if second[k] > first[k]][:3]
    for indicator_id in improved:
        record_label_evidence(
            cluster,
            scheme.id,
            "improvement",
            words["annual"],
            indicator_id=indicator_id,
            on=second_day + timedelta(days=10),
        )
    record_label_evidence(
        cluster,
        scheme.id,
        "expert_review",
        words["silver"],
        on=second_day + timedelta(days=20),
    )
    award_label(cluster, scheme, "silver", second_day + timedelta(days=30))
    audit = dict.fromkeys(second, 5.0)
    audit.update({"private_funds": 2.0, "media_recognition": 3.0, "further_achievements": 4.0})
    audited = save_round(
        cluster,
        indicator_set,
        add_months(today, -1).replace(day=1),
        audit,
        audit=True,
        assessor=ASSESSOR,
    )
    # The expert found a typo in the report: media recognition was 2, not 3.
    audit["media_recognition"] = 2.0
    correct_round(audited, audit, words["typo"])


STORIES = (_bronze_expiring, _silver_eligible, _close_to_gold)


def load(tenant, today: date | None = None) -> None:
    from portal_esca import esca_set
    from portal_esca.scheme import schemes

    today = today or date.today()
    indicator_set = esca_set()
    scheme = max(schemes(), key=lambda s: s.version)
    rng = random.Random(tenant.slug)
    with tenant_scope(tenant.id):
        clusters = db.session.scalars(select(Cluster).order_by(Cluster.name)).all()
        for story, cluster in zip(STORIES, clusters, strict=False):
            if cluster_evidence(cluster.id).rounds:
                continue
            words = WORDS.get(tenant.default_locale, WORDS["en"])
            story(cluster, indicator_set, scheme, today, rng, words)
