"""import jobs: large confirmed imports written by a job, with progress (import_job), and the
rows a pending import's check read (pending_import.rows)

Revision ID: 3c7d9e1f2a48
Revises: 8e3f1a6c5b27
Create Date: 2026-12-11 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "3c7d9e1f2a48"
down_revision = "8e3f1a6c5b27"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pending_import", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rows", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pending_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pending_id"],
            ["pending_import.id"],
            name=op.f("fk_import_job_pending_id_pending_import"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_import_job_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_import_job_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
        sa.UniqueConstraint("pending_id", name=op.f("uq_import_job_pending_id")),
    )
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_job_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_job_user_id"), ["user_id"], unique=False)


def downgrade():
    op.drop_table("import_job")
    with op.batch_alter_table("pending_import", schema=None) as batch_op:
        batch_op.drop_column("rows")
