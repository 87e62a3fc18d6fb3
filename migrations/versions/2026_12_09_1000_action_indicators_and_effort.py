"""the improvement loop: plan actions aim at indicators (action_indicator) and record the
effort planned and spent (hours, money in the region's currency)

Revision ID: 3c1f0a9e5b27
Revises: 8b3e5a1c7d92
Create Date: 2026-12-09 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "3c1f0a9e5b27"
down_revision = "8b3e5a1c7d92"
branch_labels = None
depends_on = None

EFFORT = (
    ("planned_hours", sa.Numeric(10, 1)),
    ("spent_hours", sa.Numeric(10, 1)),
    ("planned_money", sa.Numeric(14, 2)),
    ("spent_money", sa.Numeric(14, 2)),
)


def upgrade():
    op.create_table(
        "action_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("indicator_set", sa.String(length=100), nullable=False),
        sa.Column("set_version", sa.String(length=40), nullable=False),
        sa.Column("indicator_id", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["plan_action.id"],
            name=op.f("fk_action_indicator_action_id_plan_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_action_indicator_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_indicator")),
        sa.UniqueConstraint(
            "action_id",
            "indicator_set",
            "indicator_id",
            name=op.f("uq_action_indicator_action_id_indicator_set_indicator_id"),
        ),
    )
    with op.batch_alter_table("action_indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_indicator_action_id"), ["action_id"])
        batch_op.create_index(batch_op.f("ix_action_indicator_tenant_id"), ["tenant_id"])
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        for name, kind in EFFORT:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
        batch_op.create_check_constraint(
            "effort_not_negative",
            "(planned_hours IS NULL OR planned_hours >= 0)"
            " AND (spent_hours IS NULL OR spent_hours >= 0)"
            " AND (planned_money IS NULL OR planned_money >= 0)"
            " AND (spent_money IS NULL OR spent_money >= 0)",
        )


def downgrade():
    with op.batch_alter_table("plan_action", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_plan_action_effort_not_negative"), type_="check")
        for name, _kind in reversed(EFFORT):
            batch_op.drop_column(name)
    with op.batch_alter_table("action_indicator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_indicator_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_action_indicator_action_id"))
    op.drop_table("action_indicator")
