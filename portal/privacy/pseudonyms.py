"""Stable pseudonyms of a region's clusters: the numbers ("Cluster 417") comparisons show where
the privacy policy (``portal.privacy.policy``) does not let the viewer see names.

A cluster's number is derived from its id with a keyed hash (HMAC-SHA256 under the
installation's secret key, with the region in the message), so it says nothing about the
cluster's name, the order clusters were created, benchmarked or imported, or their scores,
and nobody without the secret can work it out from a cluster's id. It stays the same across
new rounds, imports, new clusters, set versions and sorts:

* numbers lie in 1..999 (1..9,999 once a region has more than 999 clusters, and so on);
* collisions are resolved by probing upwards from the hashed number, the clusters taking
  their numbers in the order of their ids: a new cluster (a higher id) never moves an
  existing one. Only deleting a cluster can move a later one that had probed past it.

Every cluster of the region takes part, with or without rounds, so a number does not change
when a cluster gets its first round of some set version.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from portal.clusters.models import Cluster
from portal.extensions import db

SMALLEST_SPACE = 999
CONTEXT = b"portal:cluster-pseudonyms:v1"


def _space(count: int) -> int:
    space = SMALLEST_SPACE
    while count > space:
        space = space * 10 + 9
    return space


def pseudonyms(secret: str | bytes, tenant_id: int, cluster_ids: Iterable[int]) -> dict[int, int]:
    """Cluster id -> its number in the region (pure: no database, no Flask)."""
    ids = sorted(set(cluster_ids))
    space = _space(len(ids))
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    key = hmac.new(key, CONTEXT, hashlib.sha256).digest()
    taken: set[int] = set()
    numbers: dict[int, int] = {}
    for cluster_id in ids:
        digest = hmac.new(key, f"{tenant_id}:{cluster_id}".encode(), hashlib.sha256).digest()
        slot = int.from_bytes(digest[:8], "big") % space
        while slot in taken:
            slot = (slot + 1) % space
        taken.add(slot)
        numbers[cluster_id] = slot + 1
    return numbers


def cluster_pseudonyms(tenant_id: int) -> dict[int, int]:
    """Every cluster of the region -> its number: one query."""
    ids = db.session.scalars(select(Cluster.id).where(Cluster.tenant_id == tenant_id)).all()
    return pseudonyms(current_app.config["SECRET_KEY"], tenant_id, ids)
