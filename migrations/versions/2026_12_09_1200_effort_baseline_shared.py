"""a region may share its measured effort baseline with other regions
(tenant.effort_baseline_shared; portal.improvement.effort), off by default

Revision ID: 7d3e9b1c4a52
Revises: 5e2b7c4d9a18
Create Date: 2026-12-09 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7d3e9b1c4a52"
down_revision = "5e2b7c4d9a18"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenant") as batch:
        batch.add_column(
            sa.Column(
                "effort_baseline_shared", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("tenant") as batch:
        batch.drop_column("effort_baseline_shared")
