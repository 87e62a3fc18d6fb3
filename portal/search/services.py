"""Who finds what, and where a hit leads.

A reader finds a kind only if the permission module lets them see such things in the region
(``portal.permissions.may``, asked once per kind, not per row): people only by those who may
see the region's people page (coordinators), files only where their action or workshop may
be seen. Nothing in the index is a benchmark value (no rounds, lights, scores or evidence),
so the privacy policy has nothing to hide here; should a kind with a cluster's own values be
indexed, its visibility must come from ``portal.privacy``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l

from portal.permissions import may
from portal.search import index
from portal.search.documents import KINDS
from portal.search.index import Group, Hit, HitPage, Visibility
from portal.search.query import Terms

PER_GROUP = 5
PER_PAGE = 20

# The permission that shows a kind (the same the kind's own pages ask).
KIND_ACTIONS = {
    "cluster": "cluster.view",
    "member": "member.view",
    "person": "tenant.people",
    "programme": "programme.view",
    "plan": "plan.view",
    "action": "action.view",
    "workshop": "workshop.view",
    "comment": "action.view",
}
FILE_PARENT_ACTIONS = {"action": "action.view", "workshop": "workshop.view"}

KIND_LABELS = {
    "cluster": _l("Clusters"),
    "member": _l("Member organisations"),
    "person": _l("People"),
    "programme": _l("Programmes"),
    "plan": _l("Plans"),
    "action": _l("Actions"),
    "workshop": _l("Workshops"),
    "comment": _l("Comments"),
    "file": _l("Files"),
}


def visibility(user, tenant) -> Visibility:
    kinds = {kind for kind, action in KIND_ACTIONS.items() if may(user, action, tenant)}
    parents = frozenset(p for p, action in FILE_PARENT_ACTIONS.items() if may(user, action, tenant))
    if parents:
        kinds.add("file")
    return Visibility(frozenset(kinds), {"file": parents})


@dataclass
class Results:
    groups: list[Group]

    @property
    def total(self) -> int:
        return sum(g.total for g in self.groups)


def overview(terms: Terms, visible: Visibility) -> Results:
    found = index.groups(terms, visible, PER_GROUP)
    return Results([found[kind] for kind in KINDS if kind in found])


def one_kind(terms: Terms, visible: Visibility, kind: str, page: int) -> HitPage:
    return index.one_kind(terms, visible, kind, page, PER_PAGE)


def link(hit: Hit) -> str:
    """The page a hit is on."""
    kind, oid, pid = hit.kind, hit.object_id, hit.parent_id
    if kind == "cluster":
        return url_for("clusters.detail", cluster_id=oid)
    if kind == "member":
        return url_for(
            "clusters.detail", cluster_id=pid, q=hit.title.striptags(), _anchor="members"
        )
    if kind == "person":
        return url_for("settings.membership", membership_id=oid)
    if kind == "programme":
        return url_for("programmes.detail", programme_id=oid)
    if kind == "plan":
        return url_for("plans.detail", plan_id=oid)
    if kind == "action":
        return url_for("plans.action_detail", action_id=oid)
    if kind == "workshop":
        return url_for("workshops.detail", workshop_id=oid)
    if kind == "comment":
        return url_for("plans.action_detail", action_id=pid, _anchor="comments")
    if hit.parent_kind == "workshop":
        return url_for("workshops.detail", workshop_id=pid, _anchor="materials")
    return url_for("plans.action_detail", action_id=pid, _anchor="attachments")
