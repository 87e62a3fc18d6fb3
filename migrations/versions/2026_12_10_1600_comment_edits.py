"""comments edited, deleted and hidden: a comment's version (no lost update), when it was
edited, and when and by whom a coordinator hid it (action_comment)

Revision ID: 8e3f1a6c5b27
Revises: 5b1e7c9a2d40
Create Date: 2026-12-10 16:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "8e3f1a6c5b27"
down_revision = "5b1e7c9a2d40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("action_comment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("hidden_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_action_comment_hidden_by_id_user_account"),
            "user_account",
            ["hidden_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("action_comment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_action_comment_hidden_by_id_user_account"), type_="foreignkey"
        )
        batch_op.drop_column("version")
        batch_op.drop_column("hidden_by_id")
        batch_op.drop_column("hidden_at")
        batch_op.drop_column("edited_at")
