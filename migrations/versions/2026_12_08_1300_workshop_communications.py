"""workshop communications: the .ics sequence, a cancellation by a coordinator, and who was
told what (workshop_notice; portal.workshops.comms)

Revision ID: fe0650c59ab0
Revises: 5d2b7c9e4f10
Create Date: 2026-12-08 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'fe0650c59ab0'
down_revision = '5d2b7c9e4f10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'workshop_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('what', sa.String(length=20), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['message_id'],
            ['outbox_message.id'],
            name=op.f('fk_workshop_notice_message_id_outbox_message'),
            ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['tenant_id'],
            ['tenant.id'],
            name=op.f('fk_workshop_notice_tenant_id_tenant'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['user_id'],
            ['user_account.id'],
            name=op.f('fk_workshop_notice_user_id_user_account'),
            ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['workshop_id'],
            ['workshop.id'],
            name=op.f('fk_workshop_notice_workshop_id_workshop'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_workshop_notice')),
    )
    with op.batch_alter_table('workshop_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_notice_tenant_id'), ['tenant_id'])
        batch_op.create_index(batch_op.f('ix_workshop_notice_user_id'), ['user_id'])
        batch_op.create_index('ix_workshop_notice_workshop_told', ['workshop_id', 'created_at'])

    # SQLite copies the table for the foreign key (env.py turns foreign keys off meanwhile,
    # so the workshop's agenda, registrations and files stay).
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancel_note', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key(
            batch_op.f('fk_workshop_cancelled_by_id_user_account'),
            'user_account',
            ['cancelled_by_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('workshop', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_workshop_cancelled_by_id_user_account'), type_='foreignkey'
        )
        batch_op.drop_column('cancel_note')
        batch_op.drop_column('cancelled_by_id')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('sequence')
    op.drop_table('workshop_notice')
