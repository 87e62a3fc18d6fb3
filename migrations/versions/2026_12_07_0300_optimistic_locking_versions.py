"""optimistic locking: a version column on every editable object (portal.locking)

Revision ID: 0238fa5062c7
Revises: 5c1e7a2f9d30
Create Date: 2026-12-07 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0238fa5062c7'
down_revision = '5c1e7a2f9d30'
branch_labels = None
depends_on = None

# plan_action has had its version from the start.
TABLES = (
    'tenant',
    'membership',
    'cluster',
    'member_organisation',
    'programme',
    'milestone',
    'workshop',
    'plan',
    'benchmark_round',
)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('version', sa.Integer(), server_default='1', nullable=False)
            )


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for table in reversed(TABLES):
        if sqlite:
            # SQLite drops a plain column in place (3.35+). Batch mode would copy and drop the
            # table, and dropping a parent table deletes its children's rows (ON DELETE
            # CASCADE) while foreign keys are enforced.
            op.execute(f'ALTER TABLE "{table}" DROP COLUMN version')
        else:
            op.drop_column(table, 'version')
