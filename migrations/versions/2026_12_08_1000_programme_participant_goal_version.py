"""optimistic locking of a programme participant's goal: a version column on
programme_cluster (portal.locking)

Revision ID: 7245a3faf6ba
Revises: e921ae2ffd6c
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '7245a3faf6ba'
down_revision = 'e921ae2ffd6c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programme_cluster', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # In place (SQLite 3.35+): batch mode would copy and drop the table (see
        # 2026_12_07_0300_optimistic_locking_versions).
        op.execute('ALTER TABLE "programme_cluster" DROP COLUMN version')
    else:
        op.drop_column('programme_cluster', 'version')
