"""The joint actions as the core's work on indicators (``toolkit.IndicatorWork``): what the
``indicator_work`` hook answers, so the core measures a joint action the same way as a
cluster's own action, and leaves the participants of joint actions out of the "others" of
other work on the same indicator in the same window.

A joint action aimed at two indicators is two pieces of work. Its clusters are everyone who
took part; those who left before its end (the due date, or the day a done action without a
due date was last changed) are ``left_early``: in neither group of its effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from portal.toolkit import IndicatorWork, _l, db
from portal_joint.forms import JOINT_STATUS_LABELS
from portal_joint.models import JointAction, JointStatus, LinkedIndicator, Participation

IndicatorKey = tuple[str, str, str]
KIND = "joint_action"


def _day(moment: Any) -> date | None:
    return moment.date() if moment is not None else None


def end_of(action: Any) -> date | None:
    """The day the joint action ends: its due date, or, done without one, the day it was last
    changed (None: no end yet)."""
    if action.due_date is not None:
        return action.due_date
    if str(action.status) == "done":
        return _day(getattr(action, "updated_at", None))
    return None


def _tally(action: Any, parts: list[Any]):
    """The clusters, those who left early, and the money and hours spent (None when nobody
    reported any), in one pass over the parts (a region's summary reads thousands)."""
    end = end_of(action)
    clusters, early = set(), set()
    money = hours = None
    for part in parts:
        clusters.add(part.cluster_id)
        left = part.left_on
        if left is not None and (end is None or left < end):
            early.add(part.cluster_id)
        if part.money_spent:
            money = (money or Decimal(0)) + Decimal(part.money_spent)
        if part.hours_spent:
            hours = (hours or Decimal(0)) + Decimal(part.hours_spent)
    return frozenset(clusters), frozenset(early), money, hours


def pieces(action: Any, parts: list[Any], keys: Iterable[IndicatorKey]) -> list[IndicatorWork]:
    """One piece of work per indicator key of a loaded joint action (no query)."""
    clusters, early, money, hours = _tally(action, parts)
    return [
        IndicatorWork(
            KIND,
            action.id,
            action.title,
            key,
            clusters,
            str(action.status),
            action.start_date,
            action.due_date,
            _day(action.created_at),
            _day(action.updated_at),
            left_early=early,
            endpoint="joint.detail",
            args={"action_id": action.id},
            money_spent=money,
            hours_spent=hours,
            programme_id=action.programme_id,
            kind_name=_l("Joint action"),
            status_name=JOINT_STATUS_LABELS.get(str(action.status), str(action.status)),
        )
        for key in keys
    ]


def of_action(action: JointAction) -> list[IndicatorWork]:
    """The pieces of work of a joint action whose parts and indicators are loaded."""
    keys = [(i.indicator_set, i.set_version, i.indicator_id) for i in action.indicators]
    return pieces(action, list(action.parts), keys)


# What ``pieces`` reads of a joint action and of a participation: loaded as plain rows (a
# page's summary reads every joint action of the region; ORM objects cost four times as much).
_ACTION_COLUMNS = (
    JointAction.id,
    JointAction.title,
    JointAction.status,
    JointAction.start_date,
    JointAction.due_date,
    JointAction.created_at,
    JointAction.updated_at,
    JointAction.programme_id,
)
_PART_COLUMNS = (
    Participation.action_id,
    Participation.cluster_id,
    Participation.left_on,
    Participation.money_spent,
    Participation.hours_spent,
)


def indicator_work(keys: Iterable[IndicatorKey]) -> list[IndicatorWork]:
    """The region's joint actions (not cancelled) aimed at any of ``keys``: two queries (the
    actions with their links, then their participants), whatever their number."""
    wanted = set(keys)
    if not wanted:
        return []
    rows = db.session.execute(
        select(
            *_ACTION_COLUMNS,
            LinkedIndicator.indicator_set,
            LinkedIndicator.set_version,
            LinkedIndicator.indicator_id,
        )
        .join(LinkedIndicator, LinkedIndicator.action_id == JointAction.id)
        .where(
            JointAction.status != JointStatus.CANCELLED,
            LinkedIndicator.indicator_id.in_(sorted({k[2] for k in wanted})),
        )
        .order_by(JointAction.id, LinkedIndicator.id)
    ).all()
    linked: dict[int, tuple[Any, list[IndicatorKey]]] = {}
    for row in rows:
        key = (row.indicator_set, row.set_version, row.indicator_id)
        if key in wanted:
            linked.setdefault(row.id, (row, []))[1].append(key)
    if not linked:
        return []
    parts: dict[int, list[Any]] = {i: [] for i in linked}
    for part in db.session.execute(
        select(*_PART_COLUMNS)
        .where(Participation.action_id.in_(sorted(linked)))
        .order_by(Participation.id)
    ):
        parts[part.action_id].append(part)
    found: list[IndicatorWork] = []
    for action_id, (action, action_keys) in linked.items():
        found.extend(pieces(action, parts[action_id], action_keys))
    return found
