"""recent actions index: a programme's recently changed actions are found in an index
(plan_action by plan, tenant, updated_at and id), not by sorting all its actions' rows

Revision ID: 3e7a91c4d2b8
Revises: 5d2b8f4a9c61
Create Date: 2026-12-14 09:00:00
"""

from alembic import op

revision = "3e7a91c4d2b8"
down_revision = "5d2b8f4a9c61"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_action_recent",
            ["plan_id", "tenant_id", "updated_at", "id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_action_recent")
