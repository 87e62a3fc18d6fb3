"""one round of each kind per cluster, set version and day: a self-assessment on the day of
the expert's interview no longer blocks the expert's result

Revision ID: 8c2d4e6f1a35
Revises: 0238fa5062c7
Create Date: 2026-12-07 04:00:00
"""

from alembic import op


revision = '8c2d4e6f1a35'
down_revision = '0238fa5062c7'
branch_labels = None
depends_on = None

OLD = 'uq_benchmark_round_cluster_id_indicator_set_set_version_held_on'
NEW = 'uq_benchmark_round_per_day_and_kind'


def upgrade():
    with op.batch_alter_table('benchmark_round', schema=None) as batch_op:
        batch_op.drop_constraint(OLD, type_='unique')
        batch_op.create_unique_constraint(
            NEW, ['cluster_id', 'indicator_set', 'set_version', 'held_on', 'kind']
        )


def downgrade():
    # Two rounds of one day (a self-assessment beside the expert's) cannot both stay under
    # the older rule: the self-assessment of such a day goes.
    op.execute(
        "DELETE FROM benchmark_round WHERE kind = 'self_assessment' AND EXISTS ("
        " SELECT 1 FROM benchmark_round other WHERE other.id <> benchmark_round.id"
        " AND other.cluster_id = benchmark_round.cluster_id"
        " AND other.indicator_set = benchmark_round.indicator_set"
        " AND other.set_version = benchmark_round.set_version"
        " AND other.held_on = benchmark_round.held_on)"
    )
    with op.batch_alter_table('benchmark_round', schema=None) as batch_op:
        batch_op.drop_constraint(NEW, type_='unique')
        batch_op.create_unique_constraint(
            OLD, ['cluster_id', 'indicator_set', 'set_version', 'held_on']
        )
