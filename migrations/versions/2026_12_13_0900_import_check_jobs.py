"""import check jobs: a large upload is checked by a job (portal.imports.jobs); its pending
import is kept from the upload on and can be confirmed only once the check passed
(pending_import.checked; the imports kept before were all checked)

Revision ID: 5d2b8f4a9c61
Revises: 8c1e5a7d3b20
Create Date: 2026-12-13 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5d2b8f4a9c61"
down_revision = "8c1e5a7d3b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pending_import", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("checked", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("pending_import", schema=None) as batch_op:
        batch_op.drop_column("checked")
