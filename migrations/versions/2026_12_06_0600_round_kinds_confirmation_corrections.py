"""round kinds (self-assessment, benchmarking, audit), who entered a round and in which role,
confirmation (a confirmed benchmarking or audit is locked), corrections kept as revisions;
the role evidence was recorded in

Existing rounds become confirmed benchmarkings (audits where they were marked so), entered by
the person the audit log names as their creator (nobody when it names none); existing
evidence keeps its dates, and its role is the recorder's role in the region now.

Revision ID: 3e6f0a9b2c41
Revises: 7d3a9c51e2b8
Create Date: 2026-12-06 06:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '3e6f0a9b2c41'
down_revision = '7d3a9c51e2b8'
branch_labels = None
depends_on = None

KIND = sa.Enum(
    'self_assessment', 'benchmarking', 'audit', name='roundkind', native_enum=False, length=20
)


def upgrade():
    with op.batch_alter_table('benchmark_round', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', KIND, server_default='benchmarking', nullable=False)
        )
        batch_op.add_column(sa.Column('entered_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('entered_role', sa.String(length=20), server_default='', nullable=False)
        )
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('revision', sa.Integer(), server_default='1', nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_benchmark_round_entered_by_id_user_account'),
            'user_account', ['entered_by_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_benchmark_round_confirmed_by_id_user_account'),
            'user_account', ['confirmed_by_id'], ['id'], ondelete='SET NULL',
        )
    op.execute("UPDATE benchmark_round SET kind = 'audit' WHERE audit")
    # Who entered each round: the audit log's record of its creation.
    op.execute(
        "UPDATE benchmark_round SET entered_by_id = ("
        " SELECT MIN(a.user_id) FROM audit_entry a"
        " WHERE a.object_type = 'benchmark_round' AND a.object_id = benchmark_round.id"
        " AND a.action = 'create')"
    )
    op.execute(
        "UPDATE benchmark_round SET entered_role = COALESCE(("
        " SELECT m.role FROM membership m WHERE m.user_id = benchmark_round.entered_by_id"
        " AND m.tenant_id = benchmark_round.tenant_id), '')"
    )
    # They were evidence already: confirmed as of their last change, by who entered them.
    op.execute(
        "UPDATE benchmark_round SET confirmed_at = updated_at, confirmed_by_id = entered_by_id"
    )
    with op.batch_alter_table('benchmark_round', schema=None) as batch_op:
        batch_op.drop_column('audit')
    op.create_table(
        'round_correction',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('corrected_by_id', sa.Integer(), nullable=True),
        sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('previous', sa.JSON(), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['corrected_by_id'], ['user_account.id'],
            name=op.f('fk_round_correction_corrected_by_id_user_account'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['round_id'], ['benchmark_round.id'],
            name=op.f('fk_round_correction_round_id_benchmark_round'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'], ['tenant.id'],
            name=op.f('fk_round_correction_tenant_id_tenant'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_round_correction')),
        sa.UniqueConstraint(
            'round_id', 'revision', name=op.f('uq_round_correction_round_id_revision')
        ),
    )
    with op.batch_alter_table('round_correction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_correction_round_id'), ['round_id'])
        batch_op.create_index(batch_op.f('ix_round_correction_tenant_id'), ['tenant_id'])
    with op.batch_alter_table('label_evidence', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('recorded_role', sa.String(length=20), server_default='', nullable=False)
        )
    op.execute(
        "UPDATE label_evidence SET recorded_role = COALESCE(("
        " SELECT m.role FROM membership m WHERE m.user_id = label_evidence.recorded_by_id"
        " AND m.tenant_id = label_evidence.tenant_id), '')"
    )


def downgrade():
    with op.batch_alter_table('label_evidence', schema=None) as batch_op:
        batch_op.drop_column('recorded_role')
    with op.batch_alter_table('round_correction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_correction_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_round_correction_round_id'))
    op.drop_table('round_correction')
    with op.batch_alter_table('benchmark_round', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('audit', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute("UPDATE benchmark_round SET audit = (kind = 'audit')")
    with op.batch_alter_table('benchmark_round', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_benchmark_round_confirmed_by_id_user_account'), type_='foreignkey'
        )
        batch_op.drop_constraint(
            batch_op.f('fk_benchmark_round_entered_by_id_user_account'), type_='foreignkey'
        )
        batch_op.drop_column('revision')
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('entered_role')
        batch_op.drop_column('entered_by_id')
        batch_op.drop_column('kind')
