"""pending imports: a checked upload kept until its uploader confirms it or it expires

Revision ID: 7d3a9c51e2b8
Revises: 5b8e2f1c9d07
Create Date: 2026-12-06 05:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '7d3a9c51e2b8'
down_revision = '5b8e2f1c9d07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_import',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('target', sa.String(length=100), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('storage_key', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenant.id'],
            name=op.f('fk_pending_import_tenant_id_tenant'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'],
            name=op.f('fk_pending_import_user_id_user_account'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_import')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_pending_import_storage_key')),
        sa.UniqueConstraint('token', name=op.f('uq_pending_import_token')),
    )
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_import_expires_at'), ['expires_at'])
        batch_op.create_index(batch_op.f('ix_pending_import_tenant_id'), ['tenant_id'])
        batch_op.create_index(batch_op.f('ix_pending_import_user_id'), ['user_id'])


def downgrade():
    with op.batch_alter_table('pending_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_import_user_id'))
        batch_op.drop_index(batch_op.f('ix_pending_import_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_pending_import_expires_at'))
    op.drop_table('pending_import')
