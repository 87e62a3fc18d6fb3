"""key figures: a version column (optimistic locking, toolkit ``Versioned``)

Revision ID: 0faf2a0fba22
Revises: b4f4776077c9
Create Date: 2026-12-08 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0faf2a0fba22"
down_revision = "b4f4776077c9"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("facts_key_figure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a plain column in place (3.35+); batch mode would copy the table.
        op.execute('ALTER TABLE "facts_key_figure" DROP COLUMN version')
    else:
        op.drop_column("facts_key_figure", "version")
