"""What each kind of object puts into the search index.

Every builder reads what it needs through the flush's (or the rebuild's) connection with core
statements: it runs inside a flush, where ORM loading would be out of place, and the tenant
criteria of ORM queries do not apply to the rows it writes (each row carries its tenant).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.clusters.models import Cluster, MemberOrganisation
from portal.files.models import StoredFile
from portal.plans.models import Action, ActionComment, Plan
from portal.programmes.models import Programme
from portal.workshops.models import AgendaItem, Workshop

# The kinds in the order the results page shows their groups.
KINDS = (
    "cluster",
    "member",
    "person",
    "programme",
    "plan",
    "action",
    "workshop",
    "comment",
    "file",
)

# Control characters never reach the index: the highlighter marks matches with two of them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TITLE_MAX = 300
BODY_MAX = 100_000


def clean(*parts: Any) -> str:
    text = "\n".join(str(p) for p in parts if p)
    return _CONTROL.sub(" ", text)


@dataclass(frozen=True)
class Indexed:
    """A model the index follows: its kind, and the attributes whose change rewrites its row."""

    kind: str
    fields: tuple[str, ...]


# Models whose own row is in the index.
FOLLOWED: dict[type, Indexed] = {
    Cluster: Indexed(
        "cluster", ("name", "sector", "programme_level", "description", "contact_name", "website")
    ),
    MemberOrganisation: Indexed("member", ("name", "city", "website", "cluster_id")),
    Membership: Indexed("person", ("active", "user_id")),
    Programme: Indexed("programme", ("name", "description")),
    Plan: Indexed("plan", ("title", "goals", "focus_areas", "cluster_id", "programme_id")),
    Action: Indexed("action", ("title", "description", "plan_id")),
    Workshop: Indexed(
        "workshop", ("title", "description", "location", "minutes_md", "programme_id")
    ),
    ActionComment: Indexed("comment", ("body", "hidden_at")),
    StoredFile: Indexed("file", ("filename",)),
}

# A parent's title is the context of its children's rows: renaming it rewrites that context.
TITLE_OF: dict[type, tuple[str, str]] = {
    Cluster: ("cluster", "name"),
    Programme: ("programme", "name"),
    Plan: ("plan", "title"),
    Action: ("action", "title"),
    Workshop: ("workshop", "title"),
}


class Builder:
    """Builds index rows; remembers the parents' titles it looked up (one rebuild, one flush)."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self._titles: dict[tuple[str, int], str] = {}

    def title(self, parent_kind: str, parent_id: int | None) -> str:
        if parent_id is None or not parent_kind:
            return ""
        key = (parent_kind, parent_id)
        if key not in self._titles:
            model, column = {
                "cluster": (Cluster, "name"),
                "programme": (Programme, "name"),
                "plan": (Plan, "title"),
                "action": (Action, "title"),
                "workshop": (Workshop, "title"),
            }[parent_kind]
            table = model.__table__
            self._titles[key] = (
                self.connection.scalar(select(table.c[column]).where(table.c.id == parent_id)) or ""
            )
        return self._titles[key]

    def remember(self, parent_kind: str, parent_id: int, title: str) -> None:
        self._titles[(parent_kind, parent_id)] = title

    def row(self, obj: Any, kind: str | None = None) -> dict | None:
        """The index row of ``obj`` (None: it has none, e.g. an inactive membership). ``obj``
        is a model instance, or a row with the same attributes when ``kind`` is given."""
        kind = kind or FOLLOWED[type(obj)].kind
        built = getattr(self, f"_{kind}")(obj)
        if built is None:
            return None
        title, body, parent_kind, parent_id = built
        if parent_id is None:
            parent_kind = ""
        return {
            "tenant_id": obj.tenant_id,
            "kind": kind,
            "object_id": obj.id,
            "parent_kind": parent_kind,
            "parent_id": parent_id,
            "title": clean(title)[:TITLE_MAX],
            "body": clean(body)[:BODY_MAX],
            "context": clean(self.title(parent_kind, parent_id))[:TITLE_MAX],
        }

    def _cluster(self, c: Cluster):
        body = clean(c.sector, c.programme_level, c.description, c.contact_name, c.website)
        return c.name, body, "", None

    def _member(self, m: MemberOrganisation):
        return m.name, clean(m.city, m.website), "cluster", m.cluster_id

    def _person(self, m: Membership):
        if not m.active:
            return None
        users = User.__table__
        found = self.connection.execute(
            select(users.c.name, users.c.email, users.c.active).where(users.c.id == m.user_id)
        ).first()
        if found is None or not found.active:
            return None
        return found.name, found.email, "", None

    def _programme(self, p: Programme):
        return p.name, p.description, "", None

    def _plan(self, p: Plan):
        if p.cluster_id is not None:
            return p.title, clean(p.goals, p.focus_areas), "cluster", p.cluster_id
        return p.title, clean(p.goals, p.focus_areas), "programme", p.programme_id

    def _action(self, a: Action):
        return a.title, a.description, "plan", a.plan_id

    def _workshop(self, w: Workshop):
        items = AgendaItem.__table__
        agenda = self.connection.execute(
            select(items.c.title, items.c.presenter, items.c.notes)
            .where(items.c.workshop_id == w.id)
            .order_by(items.c.start_time, items.c.id)
        ).all()
        body = clean(
            w.description,
            w.location,
            *(clean(i.title, i.presenter, i.notes) for i in agenda),
            w.minutes_md,
        )
        return w.title, body, "programme", w.programme_id

    def _comment(self, c: ActionComment):
        # A comment a coordinator hid is not found by its words (the page no longer shows them).
        return "", "" if c.hidden_at else c.body, "action", c.action_id

    def _file(self, f: StoredFile):
        if f.action_id is not None:
            return f.filename, "", "action", f.action_id
        return f.filename, "", "workshop", f.workshop_id
