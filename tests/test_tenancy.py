"""Tenant scoping in one place: queries filtered, inserts stamped, schema enforced."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.clusters.models import Cluster
from portal.extensions import db
from portal.tenancy import TenantScoped, TenantScopeError, get_or_404, tenant_scope, unscoped

# Tables that are not owned by one tenant, on purpose.
# A session is a person's (across regions), as the user row is.
PLATFORM_TABLES = {
    "tenant",
    "user_account",
    "user_session",
    "ended_session",
    "audit_entry",
    "outbox_message",
    "mail_opt_out",  # a person's mail settings, across regions
    "notification_setting",  # a person's delivery per kind (/profile/notifications), across regions
    # The figures store's key/value rows (portal.shared_figures), the database twin of the
    # Redis store: opaque keys that name the tenant, written and read on their own connection
    # (never the ORM session), purged across all regions, as the Redis keys are.
    "shared_figure",
    "plugin_incident",
}


def test_every_tenant_owned_table_has_a_not_null_tenant_foreign_key(app):
    for table in db.metadata.sorted_tables:
        if table.name in PLATFORM_TABLES:
            continue
        assert "tenant_id" in table.c, f"{table.name} has no tenant_id"
        column = table.c.tenant_id
        assert not column.nullable, f"{table.name}.tenant_id may be NULL"
        targets = {fk.target_fullname for fk in column.foreign_keys}
        assert targets == {"tenant.id"}, f"{table.name}.tenant_id is no foreign key to tenant"


def test_every_mapped_class_with_a_tenant_is_scoped(app):
    for mapper in db.Model.registry.mappers:
        if "tenant_id" in mapper.columns and mapper.local_table.name not in PLATFORM_TABLES:
            assert issubclass(mapper.class_, TenantScoped), mapper.class_


def test_migrated_schema_also_has_not_null_tenant_columns(app):
    from sqlalchemy import inspect

    from portal.search.schema import is_fulltext_internal

    with app.app_context():
        inspector = inspect(db.engine)
        for name in inspector.get_table_names():
            if name in PLATFORM_TABLES or name.startswith("alembic_version"):
                continue
            if is_fulltext_internal(None, name, "table", True, None):
                continue  # SQLite's FTS5 index of search_entry (scoped itself), no table of rows
            columns = {c["name"]: c for c in inspector.get_columns(name)}
            assert "tenant_id" in columns and not columns["tenant_id"]["nullable"], name
            fks = [
                fk
                for fk in inspector.get_foreign_keys(name)
                if fk["constrained_columns"] == ["tenant_id"]
            ]
            assert fks and fks[0]["referred_table"] == "tenant", name


def test_queries_see_only_the_tenant_in_scope(factory, ctx):
    a, b = factory.tenant("alpha"), factory.tenant("beta")
    factory.cluster(a, "Alpha One")
    factory.cluster(b, "Beta One")
    with tenant_scope(a.id):
        assert [c.name for c in db.session.scalars(select(Cluster))] == ["Alpha One"]
    with tenant_scope(b.id):
        assert [c.name for c in db.session.scalars(select(Cluster))] == ["Beta One"]
        # Joins and aliases are filtered too.
        from sqlalchemy.orm import aliased

        other = aliased(Cluster)
        assert db.session.scalars(select(other.name)).all() == ["Beta One"]
    with unscoped():
        assert len(db.session.scalars(select(Cluster)).all()) == 2


def test_without_a_tenant_in_scope_nothing_is_seen(factory, ctx):
    a = factory.tenant("alpha")
    factory.cluster(a, "Alpha One")
    db.session.expunge_all()
    assert db.session.scalars(select(Cluster)).all() == []


def test_bulk_update_and_delete_stay_in_the_tenant(factory, ctx):
    from sqlalchemy import delete, update

    a, b = factory.tenant("alpha"), factory.tenant("beta")
    factory.cluster(a, "Alpha One")
    factory.cluster(b, "Beta One")
    with tenant_scope(a.id):
        db.session.execute(update(Cluster).values(sector="changed"))
        db.session.execute(delete(Cluster).where(Cluster.name == "Beta One"))
        db.session.commit()
    with unscoped():
        rows = {c.name: c.sector for c in db.session.scalars(select(Cluster))}
    assert rows == {"Alpha One": "changed", "Beta One": "Mining"}


def test_inserts_get_the_tenant_in_scope(factory, ctx):
    a = factory.tenant("alpha")
    with tenant_scope(a.id):
        cluster = Cluster(name="Stamped")
        db.session.add(cluster)
        db.session.commit()
        assert cluster.tenant_id == a.id


def test_insert_without_tenant_fails(factory, ctx):
    db.session.add(Cluster(name="Orphan"))
    with pytest.raises(TenantScopeError):
        db.session.flush()
    db.session.rollback()


def test_insert_into_another_tenant_fails(factory, ctx):
    a, b = factory.tenant("alpha"), factory.tenant("beta")
    with tenant_scope(a.id):
        db.session.add(Cluster(name="Smuggled", tenant_id=b.id))
        with pytest.raises(TenantScopeError):
            db.session.flush()
        db.session.rollback()


def test_get_or_404_does_not_use_the_identity_map(factory, ctx):
    from werkzeug.exceptions import NotFound

    a, b = factory.tenant("alpha"), factory.tenant("beta")
    foreign = factory.cluster(b, "Beta One")
    with unscoped():
        loaded = db.session.scalar(select(Cluster).where(Cluster.id == foreign.id))
        assert loaded is not None  # now in the identity map
    with tenant_scope(a.id), pytest.raises(NotFound):
        get_or_404(Cluster, foreign.id)
