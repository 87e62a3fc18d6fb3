"""What the front page's panels read, as cache scopes (:mod:`portal.tenancy.cache_scopes`):
the page is kept under their versions (``@cached_page(scopes=...)`` in ``portal.main.views``).
A cluster manager's page stays while other clusters work on their actions; a page with a panel
of the whole region's news (the coordinator's activity) is renewed by any write to the region.
Each panel's entry here must name everything the panel (``portal.main.front_page``) reads
besides ``region``; tests/test_front_page_kept.py checks them against uncached renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.main.front_page import PANELS, SHOWN, programmes_ending_from
from portal.programmes.models import Programme
from portal.tenancy import cache_scopes
from portal.web.personal import viewer_profile


@dataclass(frozen=True)
class Reader:
    """Who reads the front page, as its scopes need them (from the reader's kept profile)."""

    user_id: int
    role: str
    cluster_ids: tuple[int, ...]
    today: date


def _own_clusters(reader: Reader) -> list[str]:
    return [cache_scopes.cluster(c) for c in reader.cluster_ids]


def _programmes_shown(reader: Reader) -> list[str]:
    """The programmes the panel shows (their progress is their actions'), and the
    programmes' own rows (a new one, other dates: which are shown)."""
    stmt = programmes_ending_from(select(Programme.id), reader.today).limit(SHOWN)
    return [cache_scopes.PROGRAMMES, *(cache_scopes.programme(p) for p in db.session.scalars(stmt))]


def _none(reader: Reader) -> list[str]:
    return []


# What each panel reads, as cache scopes (portal.tenancy.cache_scopes) besides ``region``
# (the rows no scope lists: workshops and invitations, rounds, labels, imports, clusters,
# members, plugins' tables): a function of the reader, or None for "any write to the region".
READS: dict[str, Any] = {
    "programmes": _programmes_shown,
    "workshops": lambda reader: [cache_scopes.REGISTRATIONS],  # seats taken
    "overdue": lambda reader: [cache_scopes.WORK],  # statuses and due days
    "lapsing": lambda reader: [cache_scopes.WORK],  # the plans' projected finishes
    "waiting": _none,
    "activity": None,  # every change, in words
    "clusters": _none,
    # Own clusters' plans, their progress and projected finishes (their actions).
    "plans": _own_clusters,
    "label_steps": _own_clusters,
    "work": lambda reader: [cache_scopes.owner(reader.user_id)],
    "invited": lambda reader: [cache_scopes.registrant(reader.user_id)],
    "register": _none,
    "rounds": _none,
    "planned": _none,
    "imports": _none,
}


def page_scopes(user: User, tenant, today: date) -> list[str] | None:
    """The scopes the user's front page reads (None: the whole region's writes). Plugins'
    panels read their own tables and the region's rows (``dashboard_panels``)."""
    # The reader's kept profile (role, clusters): a kept page's visit loads no membership.
    role, _admin, cluster_ids, _values = viewer_profile(user, tenant)
    reader = Reader(user.id, role or "coordinator", cluster_ids, today)  # "": an administrator
    panels = PANELS.get(reader.role, ())
    if any(READS[name] is None for name in panels):
        return None
    return sorted({scope for name in panels for scope in READS[name](reader)})
