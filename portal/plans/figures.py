"""Plan and programme figures kept on every action write, so pages read them instead of
summing all actions.

What is kept is independent of today's date, so a day passing needs no write:

- ``plan_figures`` / ``programme_figures``: per plan and per programme the four sums of
  progress (counted actions, done actions, the sum of weights and of weight x progress, both
  exact decimals);
- ``open_due``: per plan and per programme, how many open actions (planned, in progress,
  blocked) fall due on each date. "Overdue today" is the sum of the rows before today: an
  indexed range over at most one row per distinct due date, whatever the number of actions.

A flush listener keeps them: before the flush it notes what each changed or deleted action
counted for (and the stored figures of plans that are deleted or move to another programme),
after it what the new and changed actions count for, and it adds the difference with atomic
``UPDATE x = x + delta`` upserts in the same transaction. Deltas, not recomputation: two
concurrent transactions on the same programme never overwrite each other's sums (a recompute
under READ COMMITTED would miss the other's uncommitted action). ``recompute`` rebuilds every
figure of a tenant from the actions (``portal figures recompute``; the migration fills them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    case,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.clusters.models import Cluster
from portal.db import Base
from portal.plans.models import OPEN_STATUSES, Action, ActionStatus, Plan
from portal.tenancy.scope import TenantScoped

SUMS = ("counted", "done", "weight", "weighted")
PLACES = Decimal("0.000001")
BEFORE = "portal_figures_before"
WATCHED = ("status", "progress", "weight", "due_date", "plan_id")


class _Sums:
    counted: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[Decimal] = mapped_column(Numeric(20, 6), default=Decimal(0))
    weighted: Mapped[Decimal] = mapped_column(Numeric(24, 6), default=Decimal(0))


class PlanFigures(_Sums, TenantScoped, Base):
    __tablename__ = "plan_figures"
    affects_pages = False  # derived from actions, whose writes already count

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True
    )


class ProgrammeFigures(_Sums, TenantScoped, Base):
    __tablename__ = "programme_figures"
    affects_pages = False

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )


class OpenDue(TenantScoped, Base):
    """How many open actions of a plan (``plan_id``) or of a programme (``programme_id``)
    fall due on ``due_date``."""

    __tablename__ = "open_due"
    __table_args__ = (
        Index("ux_open_due_plan", "plan_id", "due_date", unique=True),
        Index("ux_open_due_programme", "programme_id", "due_date", unique=True),
    )
    affects_pages = False

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    due_date: Mapped[date] = mapped_column(Date)
    open: Mapped[int] = mapped_column(Integer, default=0)


# --- one action's part ------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """What one action adds to its plan's (and programme's) figures."""

    tenant_id: int
    plan_id: int
    counted: int
    done: int
    weight: Decimal
    weighted: Decimal
    open_due: date | None


def exact(weight) -> Decimal:
    return Decimal(str(weight if weight is not None else 1.0)).quantize(PLACES)


def part_of(tenant_id, plan_id, status, progress, weight, due_date) -> Part | None:
    if plan_id is None:
        return None
    status = ActionStatus(status or ActionStatus.PLANNED)
    counted = status != ActionStatus.CANCELLED
    effective = 100 if status == ActionStatus.DONE else int(progress or 0)
    w = exact(weight) if counted else Decimal(0)
    return Part(
        tenant_id,
        plan_id,
        int(counted),
        int(status == ActionStatus.DONE),
        w,
        w * effective,
        due_date if status in OPEN_STATUSES else None,
    )


def _old(state, key):
    """The value a flushed attribute had in the database (before this flush's change)."""
    if key in state.committed_state:
        return state.committed_state[key]
    if key not in state.dict:  # expired: load it now, the row is still there
        return getattr(state.obj(), key)
    return state.dict[key]


def _old_part(action: Action) -> Part | None:
    state = inspect(action)
    if not state.has_identity:
        return None
    values = [_old(state, key) for key in ("plan_id", "status", "progress", "weight", "due_date")]
    return part_of(_old(state, "tenant_id"), *values)


def _new_part(action: Action) -> Part | None:
    return part_of(
        action.tenant_id,
        action.plan_id,
        action.status,
        action.progress,
        action.weight,
        action.due_date,
    )


def _changed(action: Action) -> bool:
    state = inspect(action)
    return any(key in state.committed_state for key in WATCHED)


# --- the flush listener -----------------------------------------------------------------------


class _Deltas:
    def __init__(self) -> None:
        self.sums: dict[tuple[str, int], list] = {}
        self.due: dict[tuple[str, int, date], int] = defaultdict(int)
        self.tenants: dict[tuple[str, int], int] = {}

    def add(self, owner: tuple[str, int], tenant_id: int, values, sign: int) -> None:
        found = self.sums.setdefault(owner, [0, 0, Decimal(0), Decimal(0)])
        for i, value in enumerate(values):
            found[i] += sign * value
        self.tenants[owner] = tenant_id

    def add_due(self, owner, tenant_id, due_date: date, count: int) -> None:
        self.due[(*owner, due_date)] += count
        self.tenants[owner] = tenant_id


@event.listens_for(Session, "before_flush")
def _note_before(session: Session, _context, _instances) -> None:
    session.info.pop(BEFORE, None)  # never a failed flush's notes
    deleted_plans = {p.id: p for p in session.deleted if isinstance(p, Plan)}
    deleted_clusters = [c.id for c in session.deleted if isinstance(c, Cluster)]
    moved = [
        p
        for p in session.dirty
        if isinstance(p, Plan) and "programme_id" in _committed(p) and p not in deleted_plans
    ]
    old_parts = [
        _old_part(a)
        for a in [*session.dirty, *session.deleted]
        if isinstance(a, Action) and (a in session.deleted or _changed(a))
    ]
    old_parts = [p for p in old_parts if p is not None]
    if not (deleted_plans or deleted_clusters or moved or old_parts):
        return
    conn = session.connection()
    gone = set(deleted_plans)
    if deleted_clusters:
        gone |= set(
            conn.scalars(select(Plan.id).where(Plan.cluster_id.in_(deleted_clusters))).all()
        )
    # Plans leaving a programme (deleted, or moved to another): their stored figures.
    leaving = {p.id: _committed(p).get("programme_id", p.programme_id) for p in moved}
    if gone:
        rows = conn.execute(
            select(Plan.id, Plan.programme_id, Plan.tenant_id).where(
                Plan.id.in_(gone), Plan.programme_id.is_not(None)
            )
        ).all()
        leaving.update({plan_id: programme_id for plan_id, programme_id, _t in rows})
        tenants = {plan_id: tenant_id for plan_id, _p, tenant_id in rows}
    else:
        tenants = {}
    tenants.update({p.id: p.tenant_id for p in moved})
    stored = _stored(conn, list(leaving)) if leaving else {}
    session.info[BEFORE] = {
        "parts": [p for p in old_parts if p.plan_id not in gone],
        "leaving": leaving,
        "stored": stored,
        "moved": {p.id: p for p in moved},
        "tenants": tenants,
    }


def _committed(obj) -> dict:
    return inspect(obj).committed_state


def _stored(conn, plan_ids: list[int]) -> dict:
    """Each plan's stored sums and open actions by due date."""
    table = PlanFigures.__table__
    sums = {
        row.plan_id: (row.tenant_id, [row.counted, row.done, row.weight, row.weighted])
        for row in conn.execute(select(table).where(table.c.plan_id.in_(plan_ids)))
    }
    due = OpenDue.__table__
    dues = defaultdict(list)
    for row in conn.execute(
        select(due.c.plan_id, due.c.due_date, due.c.open).where(
            due.c.plan_id.in_(plan_ids), due.c.open != 0
        )
    ):
        dues[row.plan_id].append((row.due_date, row.open))
    return {pid: (sums.get(pid), dues.get(pid, [])) for pid in plan_ids}


@event.listens_for(Session, "after_flush")
def _apply_after(session: Session, _context) -> None:
    before = session.info.pop(BEFORE, None) or {}
    new_parts = [
        _new_part(a)
        for a in [*session.new, *session.dirty]
        if isinstance(a, Action) and (a in session.new or _changed(a))
    ]
    new_parts = [p for p in new_parts if p is not None]
    old_parts = before.get("parts", [])
    leaving = before.get("leaving", {})
    if not (new_parts or old_parts or leaving):
        return
    conn = session.connection()
    deltas = _Deltas()
    plan_ids = {p.plan_id for p in [*old_parts, *new_parts]}
    programme_of = dict(
        conn.execute(select(Plan.id, Plan.programme_id).where(Plan.id.in_(plan_ids))).all()
        if plan_ids
        else []
    )
    for plan_id, old_programme in leaving.items():
        sums, dues = before["stored"].get(plan_id, (None, []))
        if sums is None and not dues:
            continue
        tenant_id = sums[0] if sums else before["tenants"][plan_id]
        targets = [(old_programme, -1)]
        if plan_id in before["moved"]:
            targets.append((before["moved"][plan_id].programme_id, 1))
        for programme_id, sign in targets:
            if programme_id is None:
                continue
            owner = ("programme", programme_id)
            if sums:
                deltas.add(owner, tenant_id, sums[1], sign)
            for due_date, count in dues:
                deltas.add_due(owner, tenant_id, due_date, sign * count)
    for part, sign in [*((p, -1) for p in old_parts), *((p, 1) for p in new_parts)]:
        values = (part.counted, part.done, part.weight, part.weighted)
        owners = [("plan", part.plan_id)]
        if programme_of.get(part.plan_id) is not None:
            owners.append(("programme", programme_of[part.plan_id]))
        for owner in owners:
            deltas.add(owner, part.tenant_id, values, sign)
            if part.open_due is not None:
                deltas.add_due(owner, part.tenant_id, part.open_due, sign)
    _write(conn, deltas)


def _upsert(conn, table, keys: dict, increments: dict, defaults: dict) -> None:
    dialect = conn.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(table).values(**keys, **defaults, **increments)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + stmt.excluded[name] for name in increments},
    )
    conn.execute(stmt)


def _write(conn, deltas: _Deltas) -> None:
    for (kind, owner_id), values in sorted(deltas.sums.items()):
        if not any(values):
            continue
        table = PlanFigures.__table__ if kind == "plan" else ProgrammeFigures.__table__
        _upsert(
            conn,
            table,
            {f"{kind}_id": owner_id},
            dict(zip(SUMS, values, strict=True)),
            {"tenant_id": deltas.tenants[(kind, owner_id)]},
        )
    due = OpenDue.__table__
    for (kind, owner_id, due_date), count in sorted(deltas.due.items()):
        if count:
            _upsert(
                conn,
                due,
                {f"{kind}_id": owner_id, "due_date": due_date},
                {"open": count},
                {"tenant_id": deltas.tenants[(kind, owner_id)]},
            )
    touched = defaultdict(set)
    for kind, owner_id, _day in deltas.due:
        touched[kind].add(owner_id)
    if touched:
        owners = [due.c[f"{kind}_id"].in_(ids) for kind, ids in touched.items()]
        conn.execute(delete(due).where(or_(*owners), due.c.open == 0))


# --- rebuilding from the actions ----------------------------------------------------------------


def _sum_columns():
    effective = case((Action.status == ActionStatus.DONE, 100), else_=Action.progress)
    counted = Action.status != ActionStatus.CANCELLED
    return (
        func.count(case((counted, Action.id))),
        func.count(case((Action.status == ActionStatus.DONE, Action.id))),
        func.sum(case((counted, Action.weight), else_=0)),
        func.sum(case((counted, Action.weight * effective), else_=0)),
    )


def recompute(session: Session, tenant_id: int | None = None) -> int:
    """Rebuild the figures of a tenant (None: every tenant) from its actions, in the
    session's transaction; answers how many plans have figures. Weights are summed in Python
    as exact decimals, as the listener adds them."""
    conn = session.connection()
    tables = (PlanFigures.__table__, ProgrammeFigures.__table__, OpenDue.__table__)
    for table in tables:
        stmt = delete(table)
        if tenant_id is not None:
            stmt = stmt.where(table.c.tenant_id == tenant_id)
        conn.execute(stmt)
    actions = Action.__table__
    plans = Plan.__table__
    stmt = select(
        actions.c.tenant_id,
        actions.c.plan_id,
        actions.c.status,
        actions.c.progress,
        actions.c.weight,
        actions.c.due_date,
        plans.c.programme_id,
    ).join(plans, plans.c.id == actions.c.plan_id)
    if tenant_id is not None:
        stmt = stmt.where(actions.c.tenant_id == tenant_id)
    deltas = _Deltas()
    for row in conn.execute(stmt):
        part = part_of(
            row.tenant_id, row.plan_id, row.status, row.progress, row.weight, row.due_date
        )
        owners = [("plan", row.plan_id)]
        if row.programme_id is not None:
            owners.append(("programme", row.programme_id))
        for owner in owners:
            deltas.add(
                owner, part.tenant_id, (part.counted, part.done, part.weight, part.weighted), 1
            )
            if part.open_due is not None:
                deltas.add_due(owner, part.tenant_id, part.open_due, 1)
    _write(conn, deltas)
    return sum(1 for kind, _id in deltas.sums if kind == "plan")
