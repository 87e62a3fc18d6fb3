"""The one permission module: a matrix of roles and actions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.permissions import may
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant

EMAILS = {
    "coordinator": "coord@a.example",
    "cluster_manager": "manager@a.example",
    "member": "member@a.example",
    "observer": "observer@a.example",
    "admin": "admin@portal.example",
}

# action, on ("tenant", "own" = the manager's cluster, "other" = another cluster), who may
MATRIX = [
    ("tenant.view", "tenant", {"coordinator", "cluster_manager", "member", "observer", "admin"}),
    ("tenant.manage", "tenant", {"coordinator", "admin"}),
    ("tenant.people", "tenant", {"coordinator", "admin"}),
    ("tenant.plugins", "tenant", {"coordinator", "admin"}),
    ("cluster.create", "tenant", {"coordinator", "admin"}),
    ("cluster.view", "own", {"coordinator", "cluster_manager", "member", "observer", "admin"}),
    ("cluster.edit", "own", {"coordinator", "cluster_manager", "admin"}),
    ("cluster.edit", "other", {"coordinator", "admin"}),
    ("cluster.delete", "own", {"coordinator", "admin"}),
    ("member.import", "own", {"coordinator", "cluster_manager", "admin"}),
    ("member.import", "other", {"coordinator", "admin"}),
    ("platform.admin", "tenant", {"admin"}),
    ("tenant.create", "tenant", {"admin"}),
    ("no.such.action", "tenant", {"admin"}),
]


@pytest.mark.parametrize(("action", "target", "allowed"), MATRIX)
def test_permission_matrix(app, world, action, target, allowed):
    for who, email in EMAILS.items():
        with app.test_request_context():
            user = db.session.scalar(select(User).where(User.email == email))
            tenant = db.session.get(Tenant, world["a"].id)
            with tenant_scope(tenant.id):
                obj = {
                    "tenant": tenant,
                    "own": db.session.get(Cluster, world["c1"].id),
                    "other": db.session.get(Cluster, world["c2"].id),
                }[target]
                assert may(user, action, obj) is (who in allowed), (who, action, target)


def test_nobody_of_one_tenant_may_act_in_another(app, world):
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        other = db.session.get(Tenant, world["b"].id)
        assert not may(user, "tenant.view", other)
        assert not may(user, "tenant.manage", other)


def test_anonymous_and_inactive_users_may_nothing(app, world):
    from flask_login import AnonymousUserMixin

    with app.test_request_context():
        tenant = db.session.get(Tenant, world["a"].id)
        assert not may(AnonymousUserMixin(), "tenant.view", tenant)
        assert not may(None, "tenant.view", tenant)
        user = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        user.active = False
        assert not may(user, "tenant.view", tenant)


def test_denied_requests_answer_403_and_are_audited(client, world, app):
    from portal.audit.models import AuditEntry
    from tests.conftest import login

    login(client, "observer@a.example")
    response = client.post(f"/nordland/clusters/{world['c1'].id}/edit", data={"name": "Hijack"})
    assert response.status_code == 403
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "denied"))
        assert entry.summary == "cluster.edit" and entry.actor == "observer@a.example"
        assert entry.tenant_id == world["a"].id
