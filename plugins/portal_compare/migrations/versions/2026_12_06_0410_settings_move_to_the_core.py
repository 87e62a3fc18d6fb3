"""the comparison settings move into the core's privacy policy (tenant.values_min_group,
tenant.values_names_shown); the plugin's settings table goes

Runs after the core's upgrade (which adds the tenant's columns) and, on the way down, before
the core's downgrade (which removes them).

Revision ID: 9a4c7e2d1f36
Revises: 3cb3dfc25a01
Create Date: 2026-12-06 04:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "9a4c7e2d1f36"
down_revision = "3cb3dfc25a01"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE tenant SET"
        " values_min_group = (SELECT s.min_group FROM compare_settings s"
        " WHERE s.tenant_id = tenant.id),"
        " values_names_shown = (SELECT s.show_names FROM compare_settings s"
        " WHERE s.tenant_id = tenant.id)"
        " WHERE id IN (SELECT tenant_id FROM compare_settings)"
    )
    with op.batch_alter_table("compare_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compare_settings_tenant_id"))
    op.drop_table("compare_settings")


def downgrade():
    op.create_table(
        "compare_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("min_group", sa.Integer(), nullable=False),
        sa.Column("show_names", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_compare_settings_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compare_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_compare_settings_tenant_id")),
    )
    with op.batch_alter_table("compare_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compare_settings_tenant_id"), ["tenant_id"], unique=False
        )
    op.execute(
        "INSERT INTO compare_settings (tenant_id, min_group, show_names)"
        " SELECT id, values_min_group, values_names_shown FROM tenant"
    )
