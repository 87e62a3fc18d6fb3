"""mail settings per kind instead of one switch: mail_opt_out (portal.mail.preferences)

Who had switched reminders off keeps them off: no mail of the kinds that were reminders
(actions due, workshops, labels lapsing, the digest). Downgrading turns the switch off for
whoever opted out of any of those.

Revision ID: 5d2b7c9e4f10
Revises: 3c1f0e8a9b27
Create Date: 2026-12-08 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5d2b7c9e4f10"
down_revision = "3c1f0e8a9b27"
branch_labels = None
depends_on = None

REMINDER_KINDS = ("actions_due", "workshops", "label_expiry", "digest")


def upgrade():
    op.create_table(
        "mail_opt_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "kind"),
    )
    for kind in REMINDER_KINDS:
        op.execute(
            "INSERT INTO mail_opt_out (user_id, kind) "
            f"SELECT id, '{kind}' FROM user_account WHERE reminders_enabled = false"
        )
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+): batch mode would copy user_account, and dropping a parent
        # table deletes its children's rows (ON DELETE CASCADE).
        op.execute('ALTER TABLE "user_account" DROP COLUMN reminders_enabled')
    else:
        op.drop_column("user_account", "reminders_enabled")


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.execute(
        "UPDATE user_account SET reminders_enabled = false WHERE id IN "
        "(SELECT user_id FROM mail_opt_out WHERE kind IN "
        "('actions_due', 'workshops', 'label_expiry', 'digest'))"
    )
    op.drop_table("mail_opt_out")
