"""The ESCA bronze / silver / gold scheme, as pure rules over a cluster's evidence.

bronze: a benchmarking round valid on the day: a benchmarking counts for
        ``round_validity_months`` (24) months from the first day of its month (a round of
        10 Apr 2014 counts through 31 Mar 2016). The label is valid as long as that round.
silver: two benchmarkings, both still valid on the day, at least ``min_months`` (12) months
        apart; improvement on at least ``improved_needed`` (3) indicators between them,
        documented by the cluster (documentation dated on or after the first of the two
        rounds counts); a recorded expert review (dated on or after the second round: the
        expert reviews the improvement between the two). Valid 24 months from the award.
gold:   an audit round valid on the day in which every indicator is at or above its minimum
        (its yellow threshold in the indicator set) and the total is at least the pass mark:
        ``gold_points`` of ``max_points`` (the 2013 form: 120 of 150 points, 80 %). When the
        indicator set's maxima add up to another maximum (the illustrative set: 31 x 5 =
        155), the share of that maximum counts: 124 of 155 is 80 %. Valid 24 months under
        the 2013 rules, 36 months under the 2020 rules.

The label calendar asks each level when it can be reached at the earliest (``Level.earliest``):
bronze and gold any day (a benchmarking, or an audit, can be held any day); silver
``min_months`` after the oldest valid benchmarking, while that round is still valid (with no
valid round, ``min_months`` after a first benchmarking held today).

Scores are exact decimals, compared without rounding; shares are shown cut to one decimal
toward the threshold's side (79.95 % shows as 79.9 %, not met).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import partial

from portal.toolkit import (
    ClusterEvidence,
    IndicatorSet,
    LabelScheme,
    Level,
    RoundData,
    RuleResult,
    Validity,
    Verdict,
    _,
    _l,
    add_months,
    current_locale,
    exact,
    format_date,
    format_decimal,
    format_share,
    months_apart,
    months_between,
    ngettext,
    pick_text,
)

SET_ID = "esca-gold"
SCHEME_ID = "esca"


def _indicator_set() -> IndicatorSet:
    from portal_esca import esca_set

    return esca_set()


def _name(indicator) -> str:
    return pick_text(indicator.name, current_locale())


def _names(indicator_ids) -> str:
    """The indicators' names in the user's language, in the set's order."""
    wanted = set(indicator_ids)
    return ", ".join(_name(i) for i in _indicator_set().indicators if i.id in wanted)


def _no_round(rule: str, title: str) -> RuleResult:
    return RuleResult(rule, title, Verdict.NOT_MET, _("The cluster has no benchmarking round yet."))


def _lapsed(newest: RoundData, validity: Validity) -> str:
    return _(
        "The newest benchmarking, on %(date)s, was valid until %(until)s. A new benchmarking "
        "is needed.",
        date=format_date(newest.held_on),
        until=format_date(validity.until(newest.held_on)),
    )


# --- bronze ---------------------------------------------------------------------------------


def bronze_round(evidence: ClusterEvidence, on: date, validity: Validity) -> RuleResult:
    title = _("A benchmarking round")
    rounds = evidence.rounds_of(SET_ID, on)
    if not rounds:
        return _no_round("round", title)
    valid = evidence.valid_rounds(SET_ID, on, validity)
    if not valid:
        return RuleResult("round", title, Verdict.NOT_MET, _lapsed(rounds[-1], validity))
    return RuleResult(
        "round",
        title,
        Verdict.MET,
        _(
            "Benchmarked on %(date)s; the benchmarking is valid until %(until)s.",
            date=format_date(valid[-1].held_on),
            until=format_date(validity.until(valid[-1].held_on)),
        ),
    )


# --- silver ---------------------------------------------------------------------------------


def _pair(evidence: ClusterEvidence, on: date, min_months: int, validity: Validity):
    """The oldest round still valid on ``on`` and the newest valid one at least
    ``min_months`` after it (None for what is missing)."""
    rounds = evidence.valid_rounds(SET_ID, on, validity)
    if not rounds:
        return None, None
    first = rounds[0]
    later = [r for r in rounds if months_apart(first.held_on, r.held_on, min_months)]
    return first, (later[-1] if later else None)


def _apart(first: RoundData, second: RoundData) -> str:
    months = months_between(first.held_on, second.held_on)
    return ngettext(
        "Rounds on %(first)s and %(second)s, %(num)d month apart.",
        "Rounds on %(first)s and %(second)s, %(num)d months apart.",
        months,
        first=format_date(first.held_on),
        second=format_date(second.held_on),
    )


def two_rounds(
    evidence: ClusterEvidence, on: date, min_months: int, validity: Validity
) -> RuleResult:
    title = _("Two benchmarkings at least %(n)d months apart", n=min_months)
    rounds = evidence.rounds_of(SET_ID, on)
    if not rounds:
        return _no_round("two_rounds", title)
    valid = evidence.valid_rounds(SET_ID, on, validity)
    if not valid:
        return RuleResult("two_rounds", title, Verdict.NOT_MET, _lapsed(rounds[-1], validity))
    first, second = _pair(evidence, on, min_months, validity)
    if second is not None:
        return RuleResult("two_rounds", title, Verdict.MET, _apart(first, second))
    earliest = format_date(add_months(first.held_on, min_months))
    if len(valid) > 1:
        newest = valid[-1]
        reason = ngettext(
            "The rounds on %(first)s and %(second)s are %(num)d month apart; the second may "
            "be held on or after %(earliest)s.",
            "The rounds on %(first)s and %(second)s are %(num)d months apart; the second may "
            "be held on or after %(earliest)s.",
            months_between(first.held_on, newest.held_on),
            first=format_date(first.held_on),
            second=format_date(newest.held_on),
            earliest=earliest,
        )
    else:
        reason = _(
            "The first round was on %(first)s; the second may be held on or after %(earliest)s.",
            first=format_date(first.held_on),
            earliest=earliest,
        )
    lapsed = [r for r in rounds if r.held_on < first.held_on]
    if lapsed:
        reason += " " + _(
            "The round on %(date)s no longer counts: it was valid until %(until)s.",
            date=format_date(lapsed[-1].held_on),
            until=format_date(validity.until(lapsed[-1].held_on)),
        )
    return RuleResult("two_rounds", title, Verdict.NOT_MET, reason)


def improved_indicators(
    evidence: ClusterEvidence, on: date, min_months: int, validity: Validity
) -> list[str]:
    """The indicators (ids, in the set's order) better in the second round of the pair than
    in the first."""
    first, second = _pair(evidence, on, min_months, validity)
    if first is None or second is None:
        return []
    improved = []
    for indicator in _indicator_set().indicators:
        old, new = first.value(indicator.id), second.value(indicator.id)
        if old is not None and new is not None and indicator.compare(old, new) == "improved":
            improved.append(indicator.id)
    return improved


def improvements(
    evidence: ClusterEvidence, on: date, min_months: int, needed: int, validity: Validity
) -> RuleResult:
    title = _("Improvement on at least %(n)d indicators, documented", n=needed)
    first, second = _pair(evidence, on, min_months, validity)
    if first is None or second is None:
        return RuleResult(
            "improvements",
            title,
            Verdict.NOT_MET,
            _(
                "There are no two valid benchmarkings at least %(n)d months apart to compare yet.",
                n=min_months,
            ),
        )
    improved = improved_indicators(evidence, on, min_months, validity)
    rounds = {"first": format_date(first.held_on), "second": format_date(second.held_on)}
    compared = (first.held_on, second.held_on)
    if not improved:
        return RuleResult(
            "improvements",
            title,
            Verdict.NOT_MET,
            _(
                "No indicator improved between the rounds on %(first)s and %(second)s; "
                "%(needed)d are needed.",
                needed=needed,
                **rounds,
            ),
        )
    if len(improved) < needed:
        return RuleResult(
            "improvements",
            title,
            Verdict.NOT_MET,
            ngettext(
                "Between the rounds on %(first)s and %(second)s, %(num)d indicator improved: "
                "%(names)s. %(needed)d are needed.",
                "Between the rounds on %(first)s and %(second)s, %(num)d indicators improved: "
                "%(names)s. %(needed)d are needed.",
                len(improved),
                names=_names(improved),
                needed=needed,
                **rounds,
            ),
            tuple(improved),
            compared,
        )
    documented = {
        e.indicator_id
        for e in evidence.evidence_for(SCHEME_ID, "improvement", on, since=first.held_on)
        if e.indicator_id in improved
    }
    if len(documented) >= needed:
        return RuleResult(
            "improvements",
            title,
            Verdict.MET,
            _(
                "Between the rounds on %(first)s and %(second)s, these improved indicators are "
                "documented: %(names)s.",
                names=_names(documented),
                **rounds,
            ),
            tuple(improved),
            compared,
        )
    return RuleResult(
        "improvements",
        title,
        Verdict.NEEDS_EVIDENCE,
        _(
            "Between the rounds on %(first)s and %(second)s, %(found)d indicators improved: "
            "%(names)s. Document what the cluster did and the effect for at least %(needed)d "
            "of them (%(documented)d so far).",
            found=len(improved),
            names=_names(improved),
            needed=needed,
            documented=len(documented),
            **rounds,
        ),
        tuple(improved),
        compared,
    )


def expert_review(
    evidence: ClusterEvidence, on: date, min_months: int, validity: Validity
) -> RuleResult:
    """A review recorded on or after the second of the two rounds: the expert reviews the
    improvement between them (a review of an earlier silver process does not count)."""
    title = _("Review by an ESCA-certified expert")
    _first, second = _pair(evidence, on, min_months, validity)
    since = second.held_on if second is not None else None
    reviews = evidence.evidence_for(SCHEME_ID, "expert_review", on, since=since)
    if second is not None and reviews:
        return RuleResult(
            "expert_review",
            title,
            Verdict.MET,
            _("Reviewed on %(date)s.", date=format_date(reviews[-1].recorded_on)),
        )
    if second is not None and evidence.evidence_for(SCHEME_ID, "expert_review", on):
        reason = _(
            "The expert reviews the improvement since the round on %(date)s: record a review "
            "made on or after that day.",
            date=format_date(second.held_on),
        )
    else:
        reason = _("Record the expert's review and recommendation.")
    return RuleResult("expert_review", title, Verdict.NEEDS_EVIDENCE, reason)


# --- gold -----------------------------------------------------------------------------------


def _audit(evidence: ClusterEvidence, on: date, validity: Validity, rule: str, title: str):
    """The newest audit valid on ``on``, or the result to answer without one."""
    audits = [r for r in evidence.valid_rounds(SET_ID, on, validity) if r.audit]
    if audits:
        return audits[-1], None
    older = [r for r in evidence.rounds_of(SET_ID, on) if r.audit]
    if older:
        reason = _(
            "The newest audit, on %(date)s, was valid until %(until)s. A new audit is needed.",
            date=format_date(older[-1].held_on),
            until=format_date(validity.until(older[-1].held_on)),
        )
    else:
        reason = _("There is no audit round yet.")
    return None, RuleResult(rule, title, Verdict.NOT_MET, reason)


def _meets_minimum(indicator, value: Decimal) -> bool:
    minimum = exact(indicator.yellow_at)
    return value >= minimum if indicator.higher_is_better else value <= minimum


def gold_minimums(evidence: ClusterEvidence, on: date, validity: Validity) -> RuleResult:
    title = _("Every indicator at or above its minimum")
    audit, missing_audit = _audit(evidence, on, validity, "minimums", title)
    if audit is None:
        return missing_audit
    indicators = _indicator_set().indicators
    below, parts = [], []
    for indicator in indicators:
        value = audit.value(indicator.id)
        if value is None:
            below.append(indicator.id)
            parts.append(_("%(name)s: no value", name=_name(indicator)))
        elif not _meets_minimum(indicator, value):
            below.append(indicator.id)
            parts.append(
                _(
                    "%(name)s: %(value)s (minimum %(minimum)s)",
                    name=_name(indicator),
                    value=format_decimal(value),
                    minimum=format_decimal(exact(indicator.yellow_at)),
                )
            )
    if below:
        return RuleResult(
            "minimums",
            title,
            Verdict.NOT_MET,
            ngettext(
                "In the audit of %(date)s, %(num)d indicator is below its minimum or has no "
                "value: %(list)s.",
                "In the audit of %(date)s, %(num)d indicators are below their minimum or have "
                "no value: %(list)s.",
                len(below),
                date=format_date(audit.held_on),
                list="; ".join(parts),
            ),
            tuple(below),
        )
    return RuleResult(
        "minimums",
        title,
        Verdict.MET,
        _(
            "In the audit of %(date)s, all %(n)d indicators meet their minimum.",
            date=format_date(audit.held_on),
            n=len(indicators),
        ),
    )


def pass_share(max_points: Decimal, gold_points: Decimal) -> Fraction:
    """The pass mark as an exact share of the maximum (120 of 150: 4/5)."""
    return Fraction(exact(gold_points)) / Fraction(exact(max_points))


def gold_total(
    evidence: ClusterEvidence,
    on: date,
    max_points: Decimal,
    gold_points: Decimal,
    validity: Validity,
) -> RuleResult:
    """The audit's total of points against the pass mark, exactly: the total's share of the
    set's maximum must be at least ``gold_points`` / ``max_points``."""
    needed = format_share(gold_points, max_points)
    title = _("A total of at least %(share)s %% of the maximum points", share=needed)
    audit, missing_audit = _audit(evidence, on, validity, "total", title)
    if audit is None:
        return missing_audit
    indicator_set = _indicator_set()
    points = [i for i in indicator_set.indicators if i.scale == "points"]
    total = sum((audit.value(i.id) or Decimal(0) for i in points), Decimal(0))
    maximum = indicator_set.max_points
    met = bool(maximum) and Fraction(total) / Fraction(maximum) >= pass_share(
        max_points, gold_points
    )
    reason = _(
        "In the audit of %(date)s: %(total)s of %(max)s points (%(share)s %%); at least "
        "%(needed)s %% is needed.",
        date=format_date(audit.held_on),
        total=format_decimal(total),
        max=format_decimal(maximum),
        share=format_share(total, maximum),
        needed=needed,
    )
    return RuleResult("total", title, Verdict.MET if met else Verdict.NOT_MET, reason)


# --- when a level can be reached at the earliest (the label calendar) ----------------------


def any_day(_evidence: ClusterEvidence, on: date) -> date:
    """Bronze and gold rest on one benchmarking (an audit for gold) valid on the day: one can
    be held any day, so their timing allows them from ``on`` on."""
    return on


def earliest_silver(
    evidence: ClusterEvidence, on: date, min_months: int, validity: Validity
) -> date | None:
    """The first day on or after ``on`` on which two valid benchmarkings can be ``min_months``
    apart: at once when a valid pair exists; else ``min_months`` after the oldest round valid
    on ``on`` whose validity lasts until then (the second round held that day, the first still
    valid); else, with no such round, ``min_months`` after a first benchmarking held on
    ``on``, or None when the rounds' validity is too short to hold two that far apart."""
    _first, second = _pair(evidence, on, min_months, validity)
    if second is not None:
        return on
    for round_ in evidence.valid_rounds(SET_ID, on, validity):
        day = max(on, add_months(round_.held_on, min_months))
        if day <= validity.until(round_.held_on):
            return day
    day = add_months(on, min_months)
    # A validity shorter than the months between the rounds never holds a pair.
    return day if day <= validity.until(on) else None


# --- the scheme -----------------------------------------------------------------------------


def build(
    version: str,
    gold_validity_months: int,
    min_months: int = 12,
    improved_needed: int = 3,
    max_points: Decimal | int | str = 150,
    gold_points: Decimal | int | str = 120,
    round_validity_months: int = 24,
) -> LabelScheme:
    """One version of the scheme; every number is data of the version (``parameters``)."""
    max_points, gold_points = exact(max_points), exact(gold_points)
    if not 0 < gold_points <= max_points:
        raise ValueError("the pass mark must be above 0 and at most the maximum points")
    # A benchmarking counts from the first day of its month; a bronze label resting on it
    # is valid as long (the bronze level's own validity window).
    rounds = Validity(round_validity_months, from_month=True)
    pair = {"min_months": min_months, "validity": rounds}
    return LabelScheme(
        id=SCHEME_ID,
        version=version,
        title=_l("ESCA cluster management excellence"),
        parameters={
            "min_months": min_months,
            "improved_needed": improved_needed,
            "max_points": max_points,
            "gold_points": gold_points,
            "round_validity_months": round_validity_months,
        },
        levels=(
            Level(
                "bronze",
                _l("Bronze"),
                (partial(bronze_round, validity=rounds),),
                validity_months=rounds.months,
                valid_from="round_month",
                tone="bronze",
                earliest=any_day,
            ),
            Level(
                "silver",
                _l("Silver"),
                (
                    partial(two_rounds, **pair),
                    partial(improvements, needed=improved_needed, **pair),
                    partial(expert_review, **pair),
                ),
                validity_months=24,
                tone="silver",
                earliest=partial(earliest_silver, **pair),
            ),
            Level(
                "gold",
                _l("Gold"),
                (
                    partial(gold_minimums, validity=rounds),
                    partial(
                        gold_total, max_points=max_points, gold_points=gold_points, validity=rounds
                    ),
                ),
                validity_months=gold_validity_months,
                tone="gold",
                earliest=any_day,
            ),
        ),
    )


def schemes() -> list[LabelScheme]:
    return [build("2013", gold_validity_months=24), build("2020", gold_validity_months=36)]
