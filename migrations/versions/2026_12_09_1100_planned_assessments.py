"""the label calendar: assessments a cluster plans toward a label (planned_assessment), so a
renewal can be "planned" (portal.labels.calendar)

Revision ID: 5e2b7c4d9a18
Revises: 3c1f0a9e5b27
Create Date: 2026-12-09 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5e2b7c4d9a18"
down_revision = "3c1f0a9e5b27"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "planned_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("level", sa.String(length=40), server_default="", nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
            ["cluster_id"],
            ["cluster.id"],
            name=op.f("fk_planned_assessment_cluster_id_cluster"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_planned_assessment_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_planned_assessment_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_assessment")),
    )
    with op.batch_alter_table("planned_assessment") as batch_op:
        batch_op.create_index(batch_op.f("ix_planned_assessment_cluster_id"), ["cluster_id"])
        batch_op.create_index(batch_op.f("ix_planned_assessment_tenant_id"), ["tenant_id"])


def downgrade():
    with op.batch_alter_table("planned_assessment") as batch_op:
        batch_op.drop_index(batch_op.f("ix_planned_assessment_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_planned_assessment_cluster_id"))
    op.drop_table("planned_assessment")
