"""sessions ended while Redis was down stay ended: the ended session ids, and per person the
moment before which their sessions are ended

Revision ID: e921ae2ffd6c
Revises: 8c2d4e6f1a35
Create Date: 2026-12-07 05:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e921ae2ffd6c"
down_revision = "8c2d4e6f1a35"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ended_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ended_session")),
    )
    with op.batch_alter_table("ended_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ended_session_ended_at"), ["ended_at"])
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sessions_valid_after", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("sessions_valid_after")
    with op.batch_alter_table("ended_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ended_session_ended_at"))
    op.drop_table("ended_session")
