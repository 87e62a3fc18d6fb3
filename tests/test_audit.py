"""The audit log: who did what, when, in which tenant."""

from __future__ import annotations

from sqlalchemy import select

from portal.audit.models import AuditEntry
from portal.extensions import db
from tests.conftest import login
from tests.locking_support import version_on


def _entries(app, **where):
    with app.app_context():
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return db.session.scalars(stmt).all()


def test_create_update_delete_are_recorded_with_changes(client, world, app):
    login(client, "coord@a.example")
    client.post("/nordland/clusters/new", data={"name": "Audited Cluster", "sector": "A"})
    created = _entries(app, action="create", object_type="cluster")[-1]
    assert created.actor == "coord@a.example" and created.tenant_id == world["a"].id
    assert created.changes["name"] == "Audited Cluster"
    url = f"/nordland/clusters/{created.object_id}/edit"
    client.post(
        url, data={"name": "Audited Cluster", "sector": "B", "version": version_on(client, url)}
    )
    updated = _entries(app, action="update", object_type="cluster")[-1]
    assert updated.changes == {"sector": ["A", "B"]}
    client.post(f"/nordland/clusters/{created.object_id}/delete")
    deleted = _entries(app, action="delete", object_type="cluster")[-1]
    assert deleted.object_id == created.object_id


def test_secrets_never_enter_the_log(client, world, app):
    login(client, "member@a.example")
    client.post(
        "/profile",
        data={
            "password-current": "correct-horse-battery",
            "password-password": "new-secret-123",
            "password-confirm": "new-secret-123",
        },
    )
    for entry in _entries(app, object_type="user_account"):
        assert "password_hash" not in entry.changes and "session_version" not in entry.changes


def test_tenant_audit_page_shows_only_its_tenant(client, world, app):
    login(client, "coord@a.example")
    client.post("/nordland/clusters/new", data={"name": "Visible Cluster"})
    page = client.get("/nordland/audit").get_data(as_text=True)
    assert "Visible Cluster" in page and "Bravo Region" not in page
    filtered = client.get("/nordland/audit?action=update").get_data(as_text=True)
    assert "Visible Cluster" not in filtered
    client.post("/logout")
    login(client, "observer@a.example")
    assert client.get("/nordland/audit").status_code == 403


def test_platform_admin_sees_all_entries(client, world):
    login(client, "admin@portal.example")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Bravo Region" in page and "Nordland Forum" in page
