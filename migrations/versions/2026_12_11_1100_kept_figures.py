"""figures kept, not recomputed: plan and programme progress sums and open actions by due
date (plan_figures, programme_figures, open_due), filled from the existing actions; and the
store of figures shared by all workers (shared_figure)

Revision ID: 6f2a9c4e8b17
Revises: 4d8b2f6e1c93
Create Date: 2026-12-11 11:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "6f2a9c4e8b17"
down_revision = "4d8b2f6e1c93"
branch_labels = None
depends_on = None


def _sums():
    return [
        sa.Column("counted", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Numeric(20, 6), nullable=False),
        sa.Column("weighted", sa.Numeric(24, 6), nullable=False),
    ]


def _tenant(table):
    return [
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=f"fk_{table}_tenant_id_tenant", ondelete="CASCADE"
        ),
    ]


def upgrade():
    op.create_table(
        "plan_figures",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        *_sums(),
        *_tenant("plan_figures"),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name="fk_plan_figures_plan_id_plan", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("plan_id", name="pk_plan_figures"),
    )
    op.create_index("ix_plan_figures_tenant_id", "plan_figures", ["tenant_id"])
    op.create_table(
        "programme_figures",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        *_sums(),
        *_tenant("programme_figures"),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name="fk_programme_figures_programme_id_programme",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("programme_id", name="pk_programme_figures"),
    )
    op.create_index("ix_programme_figures_tenant_id", "programme_figures", ["tenant_id"])
    op.create_table(
        "open_due",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        *_tenant("open_due"),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name="fk_open_due_plan_id_plan", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programme.id"],
            name="fk_open_due_programme_id_programme",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_open_due"),
    )
    op.create_index("ix_open_due_tenant_id", "open_due", ["tenant_id"])
    op.create_index("ux_open_due_plan", "open_due", ["plan_id", "due_date"], unique=True)
    op.create_index("ux_open_due_programme", "open_due", ["programme_id", "due_date"], unique=True)
    op.create_table(
        "shared_figure",
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_shared_figure"),
    )
    op.create_index("ix_shared_figure_expires_at", "shared_figure", ["expires_at"])

    # The figures of the existing actions, as the flush listener would have kept them.
    from portal.plans.figures import recompute

    recompute(Session(bind=op.get_bind()))


def downgrade():
    op.drop_index("ix_shared_figure_expires_at", table_name="shared_figure")
    op.drop_table("shared_figure")
    op.drop_index("ux_open_due_programme", table_name="open_due")
    op.drop_index("ux_open_due_plan", table_name="open_due")
    op.drop_index("ix_open_due_tenant_id", table_name="open_due")
    op.drop_table("open_due")
    op.drop_index("ix_programme_figures_tenant_id", table_name="programme_figures")
    op.drop_table("programme_figures")
    op.drop_index("ix_plan_figures_tenant_id", table_name="plan_figures")
    op.drop_table("plan_figures")
