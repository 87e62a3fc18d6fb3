"""the region's currency: amounts of money (actions' budgets and spending) are kept and shown
in it (tenant.currency, ISO 4217)

Revision ID: b2c8e4f0a615
Revises: 9a4d2e6f1b73
Create Date: 2026-12-09 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b2c8e4f0a615"
down_revision = "9a4d2e6f1b73"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False)
        )
    # Regions that speak Norwegian or Danish keep their amounts in their crowns.
    op.execute("UPDATE tenant SET currency = 'NOK' WHERE default_locale = 'nb'")
    op.execute("UPDATE tenant SET currency = 'DKK' WHERE default_locale = 'da'")


def downgrade():
    with op.batch_alter_table("tenant", schema=None) as batch_op:
        batch_op.drop_column("currency")
