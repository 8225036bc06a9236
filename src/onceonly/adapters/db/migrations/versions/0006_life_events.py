"""tell us once: life-event reports, notification agreements, the delivery outbox and inboxes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('datasets', sa.Column('event_type', sa.String(length=100), nullable=True))
    op.create_index(op.f('ix_datasets_event_type'), 'datasets', ['event_type'], unique=True)
    op.add_column('agreements', sa.Column('kind', sa.String(length=16), server_default='query',
                                          nullable=False))
    op.create_table('life_event_reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('informant_key', sa.String(length=64), nullable=True),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('reporter_org', sa.String(length=64), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('event', sa.JSON(), nullable=False),
    sa.Column('not_told', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_life_event_reports')),
    sa.UniqueConstraint('source', 'event_id', name=op.f('uq_life_event_reports_source'))
    )
    op.create_index(op.f('ix_life_event_reports_person_key'), 'life_event_reports',
                    ['person_key'])
    op.create_index(op.f('ix_life_event_reports_informant_key'), 'life_event_reports',
                    ['informant_key'])
    op.create_table('deliveries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('receiver_id', sa.String(length=64), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('delivered_at', UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('notification', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'],
                            name=op.f('fk_deliveries_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['report_id'], ['life_event_reports.id'],
                            name=op.f('fk_deliveries_report_id_life_event_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries'))
    )
    op.create_index(op.f('ix_deliveries_report_id'), 'deliveries', ['report_id'])
    op.create_index('ix_deliveries_due', 'deliveries', ['status', 'mode', 'next_attempt_at'])
    op.create_index('ix_deliveries_receiver', 'deliveries', ['receiver_id', 'status'])
    op.create_index('ix_deliveries_created_at', 'deliveries', ['created_at'])
    op.create_table('notification_endpoints',
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('set_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'],
                            name=op.f('fk_notification_endpoints_org_id_organisations')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_notification_endpoints'))
    )


def downgrade() -> None:
    op.drop_table('notification_endpoints')
    op.drop_index('ix_deliveries_created_at', table_name='deliveries')
    op.drop_index('ix_deliveries_receiver', table_name='deliveries')
    op.drop_index('ix_deliveries_due', table_name='deliveries')
    op.drop_index(op.f('ix_deliveries_report_id'), table_name='deliveries')
    op.drop_table('deliveries')
    op.drop_index(op.f('ix_life_event_reports_informant_key'), table_name='life_event_reports')
    op.drop_index(op.f('ix_life_event_reports_person_key'), table_name='life_event_reports')
    op.drop_table('life_event_reports')
    # Dropped in place (SQLite 3.35+ too): rebuilding these tables, as a batch operation
    # would, fails while other tables' rows still refer to them.
    op.drop_column('agreements', 'kind')
    op.drop_index(op.f('ix_datasets_event_type'), table_name='datasets')
    op.drop_column('datasets', 'event_type')
