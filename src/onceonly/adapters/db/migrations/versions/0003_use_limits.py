"""use limits (distinct persons a day, a use count), the kill switch, anomaly detection,
bulk extracts by exception

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('agreements', sa.Column('max_persons_per_day', sa.Integer(), nullable=True))
    op.add_column('agreements', sa.Column('max_uses', sa.Integer(), nullable=True))
    op.add_column('agreements', sa.Column('bulk_max_records', sa.Integer(), nullable=True))
    op.add_column('query_usage', sa.Column('persons', sa.Integer(), server_default='0',
                                           nullable=False))
    op.create_table('person_usage',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_person_usage_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('agreement_id', 'day', 'person_key', name=op.f('pk_person_usage'))
    )
    op.create_table('agreement_uses',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_uses_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('agreement_id', name=op.f('pk_agreement_uses'))
    )
    op.create_table('kill_switches',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('agreement_ids', sa.JSON(), nullable=False),
    sa.Column('pulled_by', sa.String(length=64), nullable=False),
    sa.Column('pulled_at', UTCDateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('restored_by', sa.String(length=64), nullable=True),
    sa.Column('restored_at', UTCDateTime(), nullable=True),
    sa.Column('restore_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['consumer_id'], ['organisations.id'], name=op.f('fk_kill_switches_consumer_id_organisations')),
    sa.ForeignKeyConstraint(['provider_id'], ['organisations.id'], name=op.f('fk_kill_switches_provider_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kill_switches'))
    )
    op.create_index('ix_kill_switches_provider_consumer', 'kill_switches',
                    ['provider_id', 'consumer_id'])
    op.create_table('activity',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('officer_id', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('person_key', sa.String(length=64), nullable=True),
    sa.Column('number', sa.BigInteger(), nullable=True),
    sa.Column('refused', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    op.create_index('ix_activity_agreement_id_at', 'activity', ['agreement_id', 'at'])
    op.create_table('anomaly_rules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('officer_id', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('window_seconds', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_anomaly_rules'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.String(length=64), nullable=True),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    op.create_index(op.f('ix_alerts_provider_id'), 'alerts', ['provider_id'])
    op.create_table('detector_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_activity_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_detector_state'))
    )
    op.bulk_insert(sa.table('detector_state', sa.column('id'), sa.column('last_activity_id')),
                   [{'id': 1, 'last_activity_id': 0}])
    op.create_table('bulk_extracts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('cohort', sa.JSON(), nullable=True),
    sa.Column('cohort_size', sa.Integer(), nullable=False),
    sa.Column('recipient_jwk', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('jwe', sa.Text(), nullable=True),
    sa.Column('records', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('expires_at', UTCDateTime(), nullable=True),
    sa.Column('downloaded_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_bulk_extracts_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_extracts'))
    )
    op.create_index(op.f('ix_bulk_extracts_agreement_id'), 'bulk_extracts', ['agreement_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_bulk_extracts_agreement_id'), table_name='bulk_extracts')
    op.drop_table('bulk_extracts')
    op.drop_table('detector_state')
    op.drop_index(op.f('ix_alerts_provider_id'), table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('anomaly_rules')
    op.drop_index('ix_activity_agreement_id_at', table_name='activity')
    op.drop_table('activity')
    op.drop_index('ix_kill_switches_provider_consumer', table_name='kill_switches')
    op.drop_table('kill_switches')
    op.drop_table('agreement_uses')
    op.drop_table('person_usage')
    with op.batch_alter_table('query_usage', schema=None) as batch_op:
        batch_op.drop_column('persons')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_column('bulk_max_records')
        batch_op.drop_column('max_uses')
        batch_op.drop_column('max_persons_per_day')
