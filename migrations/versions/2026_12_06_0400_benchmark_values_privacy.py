"""benchmark values privacy: the region's minimum group and names setting, recorded choices
to share values (the region inside the forum, a cluster with the observers)

Revision ID: 5b8e2f1c9d07
Revises: 6c1d2e9a7b40
Create Date: 2026-12-06 04:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '5b8e2f1c9d07'
down_revision = '6c1d2e9a7b40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('values_min_group', sa.Integer(), server_default='5', nullable=False)
        )
        batch_op.add_column(
            sa.Column('values_names_shown', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        'values_sharing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=True),
        sa.Column(
            'audience',
            sa.Enum('forum', 'observers', name='audience', native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_by_id', sa.Integer(), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['cluster_id'], ['cluster.id'],
            name=op.f('fk_values_sharing_cluster_id_cluster'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['started_by_id'], ['user_account.id'],
            name=op.f('fk_values_sharing_started_by_id_user_account'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['ended_by_id'], ['user_account.id'],
            name=op.f('fk_values_sharing_ended_by_id_user_account'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenant.id'],
            name=op.f('fk_values_sharing_tenant_id_tenant'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_values_sharing')),
    )
    with op.batch_alter_table('values_sharing', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_values_sharing_cluster_id'), ['cluster_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_values_sharing_tenant_id'), ['tenant_id'], unique=False
        )
        batch_op.create_index(
            'ix_values_sharing_tenant_ended', ['tenant_id', 'ended_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('values_sharing', schema=None) as batch_op:
        batch_op.drop_index('ix_values_sharing_tenant_ended')
        batch_op.drop_index(batch_op.f('ix_values_sharing_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_values_sharing_cluster_id'))
    op.drop_table('values_sharing')
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('values_names_shown')
        batch_op.drop_column('values_min_group')
