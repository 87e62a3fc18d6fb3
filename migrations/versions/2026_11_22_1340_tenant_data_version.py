"""tenant data version (the key of the page cache), indexes for counts and progress

Revision ID: 6c1d2e9a7b40
Revises: 248320dff668
Create Date: 2026-11-22 13:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '6c1d2e9a7b40'
down_revision = '248320dff668'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('data_version', sa.Integer(), server_default='0', nullable=False)
        )
    with op.batch_alter_table('member_organisation', schema=None) as batch_op:
        batch_op.create_index(
            'ix_member_organisation_tenant_type', ['tenant_id', 'member_type'], unique=False
        )
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.create_index(
            'ix_plan_action_progress',
            ['plan_id', 'tenant_id', 'status', 'due_date', 'weight', 'progress'],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table('plan_action', schema=None) as batch_op:
        batch_op.drop_index('ix_plan_action_progress')
    with op.batch_alter_table('member_organisation', schema=None) as batch_op:
        batch_op.drop_index('ix_member_organisation_tenant_type')
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('data_version')
