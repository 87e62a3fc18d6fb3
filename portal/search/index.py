"""The search index's one interface, the same on PostgreSQL and SQLite.

``groups`` answers the first hits of every kind with each kind's total; ``one_kind`` a page of
one kind. Each costs two queries whatever the data's size: one picks the rows (with a window
for the totals), one marks the matches of just those rows. Rows are read through the ORM
entity, so the tenancy's criteria apply, and the visibility the caller passes (which kinds,
which files' parents) is part of the query: nothing is filtered after paging.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, and_, false, func, or_, select

from portal.extensions import db
from portal.search.backends import START, STOP, backend_for
from portal.search.models import SearchEntry
from portal.search.query import Terms
from portal.tenancy.scope import current_tenant_id


@dataclass(frozen=True)
class Visibility:
    """What the reader may find: kinds, and for kinds with parents of several kinds (files)
    which parents' children."""

    kinds: frozenset[str]
    parents: dict[str, frozenset[str]] = field(default_factory=dict)

    def clause(self) -> ColumnElement:
        if not self.kinds:
            return false()
        parts = []
        for kind in sorted(self.kinds):
            allowed = self.parents.get(kind)
            if allowed is None:
                parts.append(SearchEntry.kind == kind)
            elif allowed:
                parts.append(
                    and_(SearchEntry.kind == kind, SearchEntry.parent_kind.in_(sorted(allowed)))
                )
        return or_(*parts) if parts else false()


@dataclass
class Hit:
    kind: str
    object_id: int
    parent_kind: str
    parent_id: int | None
    title: Markup
    snippet: Markup
    context: str


@dataclass
class Group:
    kind: str
    hits: list[Hit]
    total: int


@dataclass
class HitPage:
    items: list[Hit]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def marked(text: str | None) -> Markup:
    """The text escaped, with the engine's match marks as <mark>."""
    escaped = str(escape(text or ""))
    return Markup(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S704


def _backend(terms: Terms):
    return backend_for(db.session.get_bind().dialect.name, terms)


def _scoped(stmt, backend, visible: Visibility):
    return backend.join(stmt).where(
        SearchEntry.tenant_id == current_tenant_id(), backend.matches(), visible.clause()
    )


def _hits(backend, ids: list[int]) -> dict[int, Hit]:
    if not ids:
        return {}
    title, snippet = backend.marked()
    stmt = backend.join(
        select(
            SearchEntry.id,
            SearchEntry.kind,
            SearchEntry.object_id,
            SearchEntry.parent_kind,
            SearchEntry.parent_id,
            SearchEntry.context,
            title.label("marked_title"),
            snippet.label("marked_body"),
        )
    ).where(SearchEntry.id.in_(ids), backend.matches())
    found = {}
    for row in db.session.execute(stmt):
        found[row.id] = Hit(
            row.kind,
            row.object_id,
            row.parent_kind,
            row.parent_id,
            marked(row.marked_title),
            marked(row.marked_body),
            row.context,
        )
    return found


def groups(terms: Terms, visible: Visibility, per_group: int) -> dict[str, Group]:
    """Up to ``per_group`` best hits of every kind, with each kind's number of hits."""
    backend = _backend(terms)
    ranked = _scoped(
        select(
            SearchEntry.id,
            SearchEntry.kind,
            func.row_number()
            .over(partition_by=SearchEntry.kind, order_by=backend.order())
            .label("position"),
            func.count().over(partition_by=SearchEntry.kind).label("total"),
        ),
        backend,
        visible,
    ).subquery()
    rows = db.session.execute(
        select(ranked.c.id, ranked.c.kind, ranked.c.total)
        .where(ranked.c.position <= per_group)
        .order_by(ranked.c.kind, ranked.c.position)
    ).all()
    hits = _hits(backend, [r.id for r in rows])
    found: dict[str, Group] = {}
    for row in rows:
        group = found.setdefault(row.kind, Group(row.kind, [], row.total))
        if row.id in hits:
            group.hits.append(hits[row.id])
    return found


def one_kind(terms: Terms, visible: Visibility, kind: str, page: int, per_page: int) -> HitPage:
    """A page of the hits of one kind, best first."""
    backend = _backend(terms)
    base = _scoped(
        select(SearchEntry.id, func.count().over().label("total")), backend, visible
    ).where(SearchEntry.kind == kind)
    rows = db.session.execute(
        base.order_by(*backend.order()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    if not rows and page > 1:
        return one_kind(terms, visible, kind, 1, per_page)
    hits = _hits(backend, [r.id for r in rows])
    total = rows[0].total if rows else 0
    return HitPage([hits[r.id] for r in rows if r.id in hits], page, per_page, total)
