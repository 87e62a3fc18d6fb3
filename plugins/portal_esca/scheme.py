"""The ESCA bronze / silver / gold scheme, as pure rules over a cluster's evidence.

bronze: a benchmarking round exists; valid 24 months counted from the round's month.
silver: two benchmarkings at least ``min_months`` (12) months apart; improvement on at
        least ``improved_needed`` (3) indicators between them, documented by the cluster;
        a recorded expert review. Valid 24 months from the award.
gold:   an audit round in which every indicator is at or above its minimum (its yellow
        threshold in the indicator set) and the total
        is at least ``min_share`` (80 %) of the maximum points. Valid 24 months under the
        2013 rules, 36 months under the 2020 rules.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from portal.toolkit import (
    ClusterEvidence,
    IndicatorSet,
    LabelScheme,
    Level,
    RuleResult,
    Verdict,
    _,
    _l,
    format_date,
    months_apart,
)

SET_ID = "esca-gold"
SCHEME_ID = "esca"


def _indicator_set() -> IndicatorSet:
    from portal_esca import esca_set

    return esca_set()


def bronze_round(evidence: ClusterEvidence, on: date) -> RuleResult:
    rounds = evidence.rounds_of(SET_ID, on)
    title = _("A benchmarking round")
    if not rounds:
        return RuleResult(
            "round", title, Verdict.NOT_MET, _("The cluster has no benchmarking round yet.")
        )
    return RuleResult(
        "round",
        title,
        Verdict.MET,
        _("Benchmarked on %(date)s.", date=format_date(rounds[-1].held_on)),
    )


def _pair(evidence: ClusterEvidence, on: date, min_months: int):
    """The first round and the newest one at least ``min_months`` after it."""
    rounds = evidence.rounds_of(SET_ID, on)
    if not rounds:
        return None, None
    first = rounds[0]
    later = [r for r in rounds if months_apart(first.held_on, r.held_on, min_months)]
    return first, (later[-1] if later else None)


def two_rounds(evidence: ClusterEvidence, on: date, min_months: int) -> RuleResult:
    title = _("Two benchmarkings at least %(n)d months apart", n=min_months)
    first, second = _pair(evidence, on, min_months)
    if first is None:
        return RuleResult(
            "two_rounds", title, Verdict.NOT_MET, _("The cluster has no benchmarking round yet.")
        )
    if second is None:
        from portal.toolkit import add_months

        return RuleResult(
            "two_rounds",
            title,
            Verdict.NOT_MET,
            _(
                "The first round was on %(first)s; the second may be held on or after %(earliest)s.",
                first=format_date(first.held_on),
                earliest=format_date(add_months(first.held_on, min_months)),
            ),
        )
    return RuleResult(
        "two_rounds",
        title,
        Verdict.MET,
        _(
            "Rounds on %(first)s and %(second)s.",
            first=format_date(first.held_on),
            second=format_date(second.held_on),
        ),
    )


def improved_indicators(evidence: ClusterEvidence, on: date, min_months: int) -> list[str]:
    first, second = _pair(evidence, on, min_months)
    if first is None or second is None:
        return []
    indicator_set = _indicator_set()
    improved = []
    for indicator in indicator_set.indicators:
        if indicator.id in first.values and indicator.id in second.values:
            old, new = first.values[indicator.id][0], second.values[indicator.id][0]
            if indicator.compare(old, new) == "improved":
                improved.append(indicator.id)
    return improved


def improvements(evidence: ClusterEvidence, on: date, min_months: int, needed: int) -> RuleResult:
    title = _("Improvement on at least %(n)d indicators, documented", n=needed)
    improved = improved_indicators(evidence, on, min_months)
    if len(improved) < needed:
        return RuleResult(
            "improvements",
            title,
            Verdict.NOT_MET,
            _(
                "%(found)d indicators improved between the two rounds; %(needed)d are needed.",
                found=len(improved),
                needed=needed,
            ),
            tuple(improved),
        )
    documented = {
        e.indicator_id
        for e in evidence.evidence_for(SCHEME_ID, "improvement", on)
        if e.indicator_id in improved
    }
    if len(documented) >= needed:
        return RuleResult(
            "improvements",
            title,
            Verdict.MET,
            _("%(n)d improved indicators are documented.", n=len(documented)),
            tuple(improved),
        )
    return RuleResult(
        "improvements",
        title,
        Verdict.NEEDS_EVIDENCE,
        _(
            "%(found)d indicators improved. Document what the cluster did and the effect for at least "
            "%(needed)d of them (%(documented)d so far).",
            found=len(improved),
            needed=needed,
            documented=len(documented),
        ),
        tuple(improved),
    )


def expert_review(evidence: ClusterEvidence, on: date) -> RuleResult:
    title = _("Review by an ESCA-certified expert")
    reviews = evidence.evidence_for(SCHEME_ID, "expert_review", on)
    if not reviews:
        return RuleResult(
            "expert_review",
            title,
            Verdict.NEEDS_EVIDENCE,
            _("Record the expert's review and recommendation."),
        )
    return RuleResult(
        "expert_review",
        title,
        Verdict.MET,
        _("Reviewed on %(date)s.", date=format_date(reviews[-1].recorded_on)),
    )


def _audit(evidence: ClusterEvidence, on: date):
    audits = [r for r in evidence.rounds_of(SET_ID, on) if r.audit]
    return audits[-1] if audits else None


def gold_minimums(evidence: ClusterEvidence, on: date) -> RuleResult:
    title = _("Every indicator at or above its minimum")
    audit = _audit(evidence, on)
    if audit is None:
        return RuleResult("minimums", title, Verdict.NOT_MET, _("There is no audit round yet."))
    indicator_set = _indicator_set()
    below = [
        i.id
        for i in indicator_set.indicators
        if i.id not in audit.values or audit.values[i.id][0] < i.yellow_at
    ]
    if below:
        return RuleResult(
            "minimums",
            title,
            Verdict.NOT_MET,
            _("%(n)d indicators are below their minimum or missing.", n=len(below)),
            tuple(below),
        )
    return RuleResult(
        "minimums",
        title,
        Verdict.MET,
        _("All %(n)d indicators meet their minimum.", n=len(indicator_set.indicators)),
    )


def gold_total(evidence: ClusterEvidence, on: date, min_share: float) -> RuleResult:
    title = _(
        "A total of at least %(share)d %% of the maximum points", share=round(min_share * 100)
    )
    audit = _audit(evidence, on)
    if audit is None:
        return RuleResult("total", title, Verdict.NOT_MET, _("There is no audit round yet."))
    indicator_set = _indicator_set()
    total = sum(audit.values.get(i.id, (0, ""))[0] for i in indicator_set.indicators)
    maximum = indicator_set.max_points
    share = total / maximum if maximum else 0
    reason = _(
        "%(total)s of %(max)s points (%(share)d %%).",
        total=f"{total:g}",
        max=f"{maximum:g}",
        share=int(share * 100),
    )
    return RuleResult(
        "total", title, Verdict.MET if share >= min_share else Verdict.NOT_MET, reason
    )


def build(
    version: str,
    gold_validity_months: int,
    min_months: int = 12,
    improved_needed: int = 3,
    min_share: float = 0.8,
) -> LabelScheme:
    return LabelScheme(
        id=SCHEME_ID,
        version=version,
        title=_l("ESCA cluster management excellence"),
        parameters={
            "min_months": min_months,
            "improved_needed": improved_needed,
            "min_share": min_share,
        },
        levels=(
            Level(
                "bronze",
                _l("Bronze"),
                (bronze_round,),
                validity_months=24,
                valid_from="round_month",
                tone="bronze",
            ),
            Level(
                "silver",
                _l("Silver"),
                (
                    partial(two_rounds, min_months=min_months),
                    partial(improvements, min_months=min_months, needed=improved_needed),
                    expert_review,
                ),
                validity_months=24,
                tone="silver",
            ),
            Level(
                "gold",
                _l("Gold"),
                (gold_minimums, partial(gold_total, min_share=min_share)),
                validity_months=gold_validity_months,
                tone="gold",
            ),
        ),
    )


def schemes() -> list[LabelScheme]:
    return [build("2013", gold_validity_months=24), build("2020", gold_validity_months=36)]
