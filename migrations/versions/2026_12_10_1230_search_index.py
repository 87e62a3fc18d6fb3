"""the search index (search_entry) with each database's full-text part

PostgreSQL: a generated tsvector column ('simple' configuration) with a GIN index.
SQLite: an FTS5 table over search_entry (external content) kept in step by triggers. A later
migration that rebuilds search_entry in batch mode on SQLite must make the triggers again.
The index starts empty: ``portal search reindex REGION`` (or ``portal demo``) fills it.

Revision ID: c3df6e98a585
Revises: 94d96bde884c
Create Date: 2026-12-10 12:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c3df6e98a585'
down_revision = '94d96bde884c'
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = (
    """CREATE TRIGGER search_entry_fts_insert AFTER INSERT ON search_entry BEGIN
        INSERT INTO search_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    """CREATE TRIGGER search_entry_fts_delete AFTER DELETE ON search_entry BEGIN
        INSERT INTO search_fts (search_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END""",
    """CREATE TRIGGER search_entry_fts_update AFTER UPDATE OF title, body ON search_entry BEGIN
        INSERT INTO search_fts (search_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO search_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
)


def upgrade():
    op.create_table('search_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('parent_kind', sa.String(length=20), server_default='', nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), server_default='', nullable=False),
    sa.Column('body', sa.Text(), server_default='', nullable=False),
    sa.Column('context', sa.String(length=300), server_default='', nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], name=op.f('fk_search_entry_tenant_id_tenant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entry')),
    sa.UniqueConstraint('kind', 'object_id', name=op.f('uq_search_entry_kind_object_id'))
    )
    with op.batch_alter_table('search_entry', schema=None) as batch_op:
        batch_op.create_index('ix_search_entry_parent', ['parent_kind', 'parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_entry_tenant_id'), ['tenant_id'], unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "ALTER TABLE search_entry ADD COLUMN document tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(body, ''))) "
            "STORED"
        )
        op.execute("CREATE INDEX ix_search_entry_document ON search_entry USING gin (document)")
    elif op.get_bind().dialect.name == 'sqlite':
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_entry', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('insert', 'delete', 'update'):
            op.execute(f"DROP TRIGGER IF EXISTS search_entry_fts_{name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    with op.batch_alter_table('search_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_entry_tenant_id'))
        batch_op.drop_index('ix_search_entry_parent')

    op.drop_table('search_entry')
