"""A programme's joint actions with each cluster's contribution, as XLSX or CSV, in the
import format (:mod:`portal_joint.import_format`, docs/joint-actions-import.md): one row per
contribution, the joint action's columns repeated on each (an action nobody takes part in
gets one row with the contribution columns empty); stable column names, statuses by their
ids, people by e-mail, clusters by name. CSV is UTF-8 with a byte order mark, written by the
core's exporters (toolkit ``to_csv``/``to_xlsx``): cells a spreadsheet would run as a
formula are written as text."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.toolkit import Programme, db
from portal_joint import baselines, rollup
from portal_joint.import_format import COLUMNS, PART_COLUMNS
from portal_joint.models import JointAction, Participation


def header() -> list[str]:
    """The columns: stable names, the same in every language (the import's, too)."""
    return list(COLUMNS)


def actions_of(programme: Programme) -> list[JointAction]:
    """The programme's joint actions with everything the rows need: five queries (and two
    for the measured baselines of their indicators, in ``rows``)."""
    return list(
        db.session.scalars(
            select(JointAction)
            .where(JointAction.programme_id == programme.id)
            .options(
                selectinload(JointAction.parts).selectinload(Participation.cluster),
                selectinload(JointAction.parts).selectinload(Participation.owner),
                selectinload(JointAction.lead_user),
                selectinload(JointAction.lead_cluster),
                selectinload(JointAction.indicators),
            )
            .order_by(JointAction.due_date.is_(None), JointAction.due_date, JointAction.id)
        )
    )


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


CENT, TENTH = Decimal("0.01"), Decimal("0.1")


def _rounded(value: Decimal | None, step: Decimal) -> Decimal | None:
    """A measured baseline is a mean (e.g. 5400 / 7): to cents, or tenths of an hour."""
    return None if value is None else value.quantize(step)


def rows(actions: Iterable[JointAction]) -> list[list[Any]]:
    actions = list(actions)
    measured = baselines.for_actions(actions)
    out = []
    for action in actions:
        progress = rollup.action_progress(action).value
        found = measured.get(action.id, {})
        money = rollup.effort(action, "money", found.get("money"))
        hours = rollup.effort(action, "hours", found.get("hours"))
        common = [
            action.id,
            action.title,
            action.status.value,
            action.aim or "",
            action.lead_user.email if action.lead_user else "",
            action.lead_cluster.name if action.lead_cluster else "",
            action.start_date,
            action.due_date,
            _number(action.budget_money),
            _number(action.budget_hours),
            progress,
            _number(_rounded(money.saved, CENT)),
            _number(_rounded(hours.saved, TENTH)),
            money.source,
            hours.source,
        ]
        if not action.parts:
            out.append(common + [None] * len(PART_COLUMNS))
        for part in action.parts:
            out.append(
                common
                + [
                    part.cluster.name,
                    part.joined_on,
                    part.left_on,
                    part.tasks or "",
                    part.owner.email if part.owner else "",
                    part.status.value,
                    part.progress,
                    _number(part.hours_spent),
                    _number(part.money_spent),
                    _number(part.solo_hours),
                    _number(part.solo_money),
                ]
            )
    return out
