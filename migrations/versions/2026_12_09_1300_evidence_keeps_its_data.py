"""silver evidence from data: a documented improvement keeps what the data said on the day
it was written (label_evidence.data: the indicator's two values, the work aimed at it and
its measured effect)

Revision ID: 9a4d2e6f1b73
Revises: 7d3e9b1c4a52
Create Date: 2026-12-09 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9a4d2e6f1b73"
down_revision = "7d3e9b1c4a52"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("label_evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("label_evidence", schema=None) as batch_op:
        batch_op.drop_column("data")
