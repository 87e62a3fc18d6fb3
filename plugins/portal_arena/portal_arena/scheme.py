"""The Norwegian Innovation Clusters programme levels as a label scheme, in pure rules.

The rules are ILLUSTRATIVE: they show how a national programme's levels can be checked
against a cluster's evidence; they are not the programme's official criteria. Every number
is a parameter of the scheme version (``LabelScheme.parameters``).

arena:     a benchmarking round (any indicator set) in the last ``arena_round_months`` (24)
           months. Valid ``arena_validity_months`` (36) months from the award.
arena_pro: a valid ESCA label (scheme ``esca``) at ``pro_esca_level`` (silver) or above on the
           day, and two benchmarking rounds (any indicator set) at least
           ``pro_rounds_apart_months`` (12) months apart. Valid 60 months.
gce:       a valid ESCA gold label on the day, and an expert review recorded in the last
           ``gce_review_months`` (12) months (needs evidence otherwise). Valid 120 months.

"In the last N months" uses the shared calendar rules: a round or review counts while the
day is less than N calendar months after it, i.e. through ``valid_until(day, N)`` (its
``Validity(N)`` window). A round held on 15 Mar 2023 counts for a check on 14 Mar 2025, not
on 15 Mar 2025; one held on 29 Feb 2024 counts through 27 Feb 2026 (29 Feb 2024 + 24 months
= 28 Feb 2026). A label counts while it is held: from its award through its expiry. Only
what happened on or before the day of the check counts.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from portal.toolkit import (
    ClusterEvidence,
    LabelData,
    LabelScheme,
    Level,
    RoundData,
    RuleResult,
    Validity,
    Verdict,
    _,
    _l,
    add_months,
    format_date,
    months_apart,
    months_between,
    ngettext,
    valid_until,
)

SCHEME_ID = "arena"
ESCA = "esca"
ESCA_LEVELS = ("bronze", "silver", "gold")  # lowest first, as the ESCA scheme orders them


def _esca_level_name(level: str) -> str:
    names = {"bronze": _("Bronze"), "silver": _("Silver"), "gold": _("Gold")}
    return names.get(level, level)


def _esca_rank(level: str) -> int:
    return ESCA_LEVELS.index(level) if level in ESCA_LEVELS else -1


def _rounds(evidence: ClusterEvidence, on: date) -> list[RoundData]:
    """Every round held on or before ``on``, of any indicator set, oldest first."""
    return evidence.rounds_of(None, on)


def _no_round(rule: str, title: str) -> RuleResult:
    return RuleResult(rule, title, Verdict.NOT_MET, _("The cluster has no benchmarking round yet."))


# --- the rules -----------------------------------------------------------------------------


def recent_round(evidence: ClusterEvidence, on: date, months: int) -> RuleResult:
    """A benchmarking round, of any indicator set, in the last ``months`` months."""
    title = _("A benchmarking round in the last %(n)d months", n=months)
    rounds = _rounds(evidence, on)
    if not rounds:
        return _no_round("recent_round", title)
    newest = rounds[-1].held_on
    if evidence.valid_rounds(None, on, Validity(months)):
        return RuleResult(
            "recent_round",
            title,
            Verdict.MET,
            _("Benchmarked on %(date)s.", date=format_date(newest)),
        )
    return RuleResult(
        "recent_round",
        title,
        Verdict.NOT_MET,
        _(
            "The newest round was on %(date)s and counted until %(until)s. A new round is needed.",
            date=format_date(newest),
            until=format_date(valid_until(newest, months)),
        ),
    )


def two_rounds(evidence: ClusterEvidence, on: date, months: int) -> RuleResult:
    """Two rounds, of any indicator set, at least ``months`` months apart."""
    title = _("Two benchmarking rounds at least %(n)d months apart", n=months)
    rounds = _rounds(evidence, on)
    if not rounds:
        return _no_round("two_rounds", title)
    first, newest = rounds[0].held_on, rounds[-1].held_on
    dates = {"first": format_date(first), "second": format_date(newest)}
    if months_apart(first, newest, months):
        return RuleResult(
            "two_rounds",
            title,
            Verdict.MET,
            ngettext(
                "Rounds on %(first)s and %(second)s, %(num)d month apart.",
                "Rounds on %(first)s and %(second)s, %(num)d months apart.",
                months_between(first, newest),
                **dates,
            ),
        )
    earliest = format_date(add_months(first, months))
    if len(rounds) > 1:
        reason = ngettext(
            "The rounds on %(first)s and %(second)s are %(num)d month apart; the second may "
            "be held on or after %(earliest)s.",
            "The rounds on %(first)s and %(second)s are %(num)d months apart; the second may "
            "be held on or after %(earliest)s.",
            months_between(first, newest),
            earliest=earliest,
            **dates,
        )
    else:
        reason = _(
            "The first round was on %(first)s; the second may be held on or after %(earliest)s.",
            first=dates["first"],
            earliest=earliest,
        )
    return RuleResult("two_rounds", title, Verdict.NOT_MET, reason)


def _esca_title(minimum: str) -> str:
    if minimum == "gold":
        return _("A valid ESCA gold label")
    if minimum == "silver":
        return _("A valid ESCA label at silver or above")
    return _("A valid ESCA label")


def esca_label(evidence: ClusterEvidence, on: date, minimum: str) -> RuleResult:
    """A label of the ESCA scheme at ``minimum`` or above, valid on the day."""
    title = _esca_title(minimum)
    # Labels awarded up to the day; those held on it count.
    esca: list[LabelData] = [
        lbl for lbl in evidence.labels if lbl.scheme == ESCA and lbl.awarded_on <= on
    ]
    high_enough = [lbl for lbl in esca if _esca_rank(lbl.level) >= _esca_rank(minimum)]
    valid = [lbl for lbl in evidence.held(ESCA, on) if lbl in high_enough]
    if valid:
        best = max(valid, key=lambda lbl: (_esca_rank(lbl.level), lbl.expires_on))
        return RuleResult(
            "esca_label",
            title,
            Verdict.MET,
            _(
                "ESCA %(level)s, valid until %(date)s.",
                level=_esca_level_name(best.level),
                date=format_date(best.expires_on),
            ),
        )
    if high_enough:
        last = max(high_enough, key=lambda lbl: lbl.expires_on)
        return RuleResult(
            "esca_label",
            title,
            Verdict.NOT_MET,
            _(
                "The ESCA label %(level)s expired on %(date)s.",
                level=_esca_level_name(last.level),
                date=format_date(last.expires_on),
            ),
        )
    lower = evidence.held(ESCA, on)
    if lower:
        best = max(lower, key=lambda lbl: _esca_rank(lbl.level))
        return RuleResult(
            "esca_label",
            title,
            Verdict.NOT_MET,
            _(
                "The cluster holds ESCA %(level)s; a higher level is needed.",
                level=_esca_level_name(best.level),
            ),
        )
    return RuleResult(
        "esca_label", title, Verdict.NOT_MET, _("The cluster holds no valid ESCA label.")
    )


def expert_review(evidence: ClusterEvidence, on: date, months: int) -> RuleResult:
    """An expert review recorded in the last ``months`` months. The rule id is the core's
    ``expert_review``, so the labels page offers the form that records one."""
    title = _("An expert review in the last %(n)d months", n=months)
    reviews = [e.recorded_on for e in evidence.evidence_for(SCHEME_ID, "expert_review", on)]
    if not reviews:
        return RuleResult(
            "expert_review",
            title,
            Verdict.NEEDS_EVIDENCE,
            _("Record the expert's review and recommendation."),
        )
    newest = reviews[-1]
    if Validity(months).covers(newest, on):
        return RuleResult(
            "expert_review",
            title,
            Verdict.MET,
            _("Reviewed on %(date)s.", date=format_date(newest)),
        )
    return RuleResult(
        "expert_review",
        title,
        Verdict.NEEDS_EVIDENCE,
        _(
            "The newest review was on %(date)s and counted until %(until)s. Record a new one.",
            date=format_date(newest),
            until=format_date(valid_until(newest, months)),
        ),
    )


# --- the scheme ----------------------------------------------------------------------------


def build(
    version: str = "2024",
    *,
    arena_round_months: int = 24,
    arena_validity_months: int = 36,
    pro_esca_level: str = "silver",
    pro_rounds_apart_months: int = 12,
    pro_validity_months: int = 60,
    gce_review_months: int = 12,
    gce_validity_months: int = 120,
) -> LabelScheme:
    if pro_esca_level not in ESCA_LEVELS:
        raise ValueError(f"unknown ESCA level {pro_esca_level!r}")
    return LabelScheme(
        id=SCHEME_ID,
        version=version,
        title=_l("Norwegian Innovation Clusters"),
        parameters={
            "arena_round_months": arena_round_months,
            "arena_validity_months": arena_validity_months,
            "pro_esca_level": pro_esca_level,
            "pro_rounds_apart_months": pro_rounds_apart_months,
            "pro_validity_months": pro_validity_months,
            "gce_review_months": gce_review_months,
            "gce_validity_months": gce_validity_months,
        },
        levels=(
            Level(
                "arena",
                _l("Arena"),
                (partial(recent_round, months=arena_round_months),),
                validity_months=arena_validity_months,
                tone="blue",
            ),
            Level(
                "arena_pro",
                _l("Arena Pro"),
                (
                    partial(esca_label, minimum=pro_esca_level),
                    partial(two_rounds, months=pro_rounds_apart_months),
                ),
                validity_months=pro_validity_months,
                tone="green",
            ),
            Level(
                "gce",
                _l("Global Centre of Expertise (GCE)"),
                (
                    partial(esca_label, minimum="gold"),
                    partial(expert_review, months=gce_review_months),
                ),
                validity_months=gce_validity_months,
                tone="purple",
            ),
        ),
    )


def schemes() -> list[LabelScheme]:
    return [build("2024")]
