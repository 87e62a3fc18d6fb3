"""cache versions per scope (programme, plan, region, ...): the keys of the page cache

Revision ID: 4d8b2f6e1c93
Revises: 3c7d9e1f2a48
Create Date: 2026-12-11 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "4d8b2f6e1c93"
down_revision = "3c7d9e1f2a48"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cache_version",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("scope_key", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_cache_version_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "scope_key", name=op.f("pk_cache_version")),
    )


def downgrade():
    op.drop_table("cache_version")
