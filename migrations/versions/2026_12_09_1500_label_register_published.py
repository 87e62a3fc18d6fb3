"""a region may publish its label register (tenant.register_published) and, apart, the labels'
scores (tenant.register_scores_published): both off until a coordinator switches them on

Revision ID: 5e1a7c3d9b20
Revises: b2c8e4f0a615
Create Date: 2026-12-09 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5e1a7c3d9b20"
down_revision = "b2c8e4f0a615"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("register_published", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "register_scores_published",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("tenant", schema=None) as batch_op:
        batch_op.drop_column("register_scores_published")
        batch_op.drop_column("register_published")
