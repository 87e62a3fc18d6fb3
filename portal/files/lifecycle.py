"""Stored bytes follow their rows: deleted after the commit that deletes the row, and an upload
whose row is rolled back is deleted too.

Whatever deletes the row (a page, the API, a cascade from a deleted workshop, action, plan,
programme, cluster or region), the object goes only once the database has committed: a
rolled-back delete keeps a file that still has its row. A failed delete of an object is logged
and leaves an orphan in the storage (``portal storage check`` lists none; it costs space only),
never an error page for a change that was saved.
"""

from __future__ import annotations

import logging

from flask import has_app_context
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from portal.clusters.models import Cluster
from portal.files.models import StoredFile
from portal.files.storage import StorageUnavailable, storage
from portal.plans.models import Action, Plan
from portal.programmes.models import Programme
from portal.tenancy.models import Tenant
from portal.workshops.models import Workshop

log = logging.getLogger(__name__)
FILES = StoredFile.__table__
# Deleting one of these lets the database delete stored_file rows by cascade.
PARENTS = (Cluster, Programme, Plan, Action, Workshop, Tenant)
DELETES = "portal_storage_deletes"  # keys to delete once the transaction commits
UPLOADS = "portal_storage_uploads"  # keys written in this transaction: gone on a rollback
BEFORE = "portal_storage_files_before"


def delete_after_commit(session: Session, key: str) -> None:
    session.info.setdefault(DELETES, set()).add(key)


def written(session: Session, key: str) -> None:
    """An object was saved for a row not yet committed."""
    session.info.setdefault(UPLOADS, set()).add(key)


def _files_of(deleted: list) -> object | None:
    """The condition on stored_file for the files a flush's deletes may take along: exact for
    workshops, actions and plans (deleted often), the whole region for the rare rest."""
    ids: dict[type, set[int]] = {}
    for obj in deleted:
        if isinstance(obj, PARENTS):
            ids.setdefault(type(obj), set()).add(obj.id)
    if not ids:
        return None
    actions = Action.__table__
    conditions = []
    if Workshop in ids:
        conditions.append(FILES.c.workshop_id.in_(ids.pop(Workshop)))
    if Action in ids:
        conditions.append(FILES.c.action_id.in_(ids.pop(Action)))
    if Plan in ids:
        of_plans = select(actions.c.id).where(actions.c.plan_id.in_(ids.pop(Plan)))
        conditions.append(FILES.c.action_id.in_(of_plans))
    tenants = {
        obj.id if isinstance(obj, Tenant) else obj.tenant_id for obj in deleted if type(obj) in ids
    }
    if tenants:
        conditions.append(FILES.c.tenant_id.in_(tenants))
    return or_(*conditions)


@event.listens_for(Session, "before_flush")
def _note_files_of_deleted_parents(session: Session, _context, _instances) -> None:
    condition = _files_of(list(session.deleted))
    if condition is None:
        return
    rows = session.connection().execute(select(FILES.c.id, FILES.c.storage_key).where(condition))
    session.info.setdefault(BEFORE, {}).update(dict(rows.all()))


@event.listens_for(Session, "after_flush")
def _schedule_deletes(session: Session, _context) -> None:
    for obj in session.deleted:
        if isinstance(obj, StoredFile):
            delete_after_commit(session, obj.storage_key)
    before = session.info.pop(BEFORE, None)
    if before:
        still = set(
            session.connection().scalars(select(FILES.c.id).where(FILES.c.id.in_(list(before))))
        )
        for file_id, key in before.items():
            if file_id not in still:
                delete_after_commit(session, key)


def _delete_quietly(keys: set[str], why: str) -> None:
    if not keys or not has_app_context():
        return
    backend = storage()
    for key in sorted(keys):
        try:
            backend.delete(key)
        except (StorageUnavailable, ValueError) as exc:
            log.warning("stored object %s (%s) not deleted: %s", key, why, exc)


@event.listens_for(Session, "after_commit")
def _delete_committed(session: Session) -> None:
    session.info.pop(UPLOADS, None)
    _delete_quietly(session.info.pop(DELETES, set()), "its row was deleted")


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(DELETES, None)
    session.info.pop(BEFORE, None)
    _delete_quietly(session.info.pop(UPLOADS, set()), "its row was rolled back")
