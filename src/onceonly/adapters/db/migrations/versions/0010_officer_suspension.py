"""constraints: officers suspended by anomaly, key retirement; guardians' anomaly thresholds

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('officer_suspensions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('officer_id', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('suspended_at', UTCDateTime(), nullable=False),
    sa.Column('lifted_at', UTCDateTime(), nullable=True),
    sa.Column('lifted_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'],
                            name=op.f('fk_officer_suspensions_alert_id_alerts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_suspensions'))
    )
    op.create_index('ix_officer_suspensions_officer_id_provider_id', 'officer_suspensions',
                    ['officer_id', 'provider_id'], unique=False)
    # A provider guardian's thresholds for its own agreements (NULL: the operator's).
    op.add_column('anomaly_rules', sa.Column('provider_id', sa.String(length=64),
                                             nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('anomaly_rules') as batch:
        batch.drop_column('provider_id')
    op.drop_index('ix_officer_suspensions_officer_id_provider_id',
                  table_name='officer_suspensions')
    op.drop_table('officer_suspensions')
