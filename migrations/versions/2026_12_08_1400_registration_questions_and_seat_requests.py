"""registration that fits real meetings: a workshop's registration questions, the registrants'
answers and the seats people who were not invited ask for (portal.workshops.registration_models)

Revision ID: 8b3e5a1c7d92
Revises: fe0650c59ab0
Create Date: 2026-12-08 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "8b3e5a1c7d92"
down_revision = "fe0650c59ab0"
branch_labels = None
depends_on = None


def _timestamps():
    return [
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
    ]


def _tenant(table):
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenant.id"], name=op.f(f"fk_{table}_tenant_id_tenant"), ondelete="CASCADE"
    )


def _workshop(table):
    return sa.ForeignKeyConstraint(
        ["workshop_id"],
        ["workshop.id"],
        name=op.f(f"fk_{table}_workshop_id_workshop"),
        ondelete="CASCADE",
    )


def upgrade():
    op.create_table(
        "registration_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "attendance_mode",
                "dietary",
                "text",
                "choice",
                name="questionkind",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        *_timestamps(),
        _tenant("registration_question"),
        _workshop("registration_question"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_question")),
    )
    with op.batch_alter_table("registration_question") as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_question_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_registration_question_workshop_id"), ["workshop_id"])

    op.create_table(
        "registration_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_registration_answers_registration_id_registration"),
            ondelete="CASCADE",
        ),
        _tenant("registration_answers"),
        _workshop("registration_answers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_answers")),
        sa.UniqueConstraint(
            "registration_id", name=op.f("uq_registration_answers_registration_id")
        ),
    )
    with op.batch_alter_table("registration_answers") as batch_op:
        batch_op.create_index(batch_op.f("ix_registration_answers_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_registration_answers_workshop_id"), ["workshop_id"])

    op.create_table(
        "workshop_seat_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "declined",
                "withdrawn",
                name="seatrequeststatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_workshop_seat_request_decided_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_workshop_seat_request_user_id_user_account"),
            ondelete="CASCADE",
        ),
        _tenant("workshop_seat_request"),
        _workshop("workshop_seat_request"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_seat_request")),
        sa.UniqueConstraint(
            "workshop_id", "user_id", name=op.f("uq_workshop_seat_request_workshop_id_user_id")
        ),
    )
    with op.batch_alter_table("workshop_seat_request") as batch_op:
        batch_op.create_index(batch_op.f("ix_workshop_seat_request_tenant_id"), ["tenant_id"])
        batch_op.create_index(batch_op.f("ix_workshop_seat_request_user_id"), ["user_id"])
        batch_op.create_index(batch_op.f("ix_workshop_seat_request_workshop_id"), ["workshop_id"])


def downgrade():
    op.drop_table("workshop_seat_request")
    op.drop_table("registration_answers")
    op.drop_table("registration_question")
