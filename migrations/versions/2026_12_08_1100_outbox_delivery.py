"""the outbox delivers: status, tries, next try, claim, HTML, attachments, kind, key, region
(portal.mail.delivery)

Messages already in the outbox were tried once, in the request: those without an error are
sent, those with one are dead letters (the platform admin may retry them).

Revision ID: 3c1f0e8a9b27
Revises: 7245a3faf6ba
Create Date: 2026-12-08 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "3c1f0e8a9b27"
down_revision = "7245a3faf6ba"
branch_labels = None
depends_on = None

COLUMNS = (
    "html",
    "attachments",
    "kind",
    "key",
    "tenant_id",
    "status",
    "attempts",
    "next_attempt_at",
    "claimed_until",
    "sent_at",
)


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("html", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(60), server_default="", nullable=False))
        batch_op.add_column(sa.Column("key", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("tenant_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(12), server_default="pending", nullable=False)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_message_due", ["status", "next_attempt_at"])
        batch_op.create_index("ix_outbox_message_tenant_id", ["tenant_id"])
        batch_op.create_index("uq_outbox_message_key", ["key"], unique=True)
    op.execute(
        "UPDATE outbox_message SET attempts = 1, next_attempt_at = created_at, "
        "status = CASE WHEN error = '' OR error IS NULL THEN 'sent' ELSE 'dead' END, "
        "sent_at = CASE WHEN error = '' OR error IS NULL THEN created_at ELSE NULL END"
    )


def downgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index("uq_outbox_message_key")
        batch_op.drop_index("ix_outbox_message_tenant_id")
        batch_op.drop_index("ix_outbox_message_due")
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): batch mode would copy the table.
        for column in COLUMNS:
            op.execute(f'ALTER TABLE "outbox_message" DROP COLUMN "{column}"')
    else:
        for column in COLUMNS:
            op.drop_column("outbox_message", column)
