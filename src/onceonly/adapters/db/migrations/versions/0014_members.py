"""members: organisations' status and history, identifier formats, service accounts,
disabled people, officers' training, agreements that require training

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('organisations', sa.Column('status', sa.String(length=16), nullable=False,
                                             server_default='active'))
    op.add_column('organisations', sa.Column('registered_at', UTCDateTime(), nullable=True))
    op.create_table('member_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('agreement_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'],
                            name=op.f('fk_member_events_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_events'))
    )
    op.create_index(op.f('ix_member_events_org_id'), 'member_events', ['org_id'], unique=False)
    op.add_column('identifier_schemes', sa.Column('pattern', sa.String(length=500),
                                                  nullable=True))
    op.add_column('principals', sa.Column('system_id', sa.String(length=100), nullable=True))
    op.add_column('principals', sa.Column('created_by', sa.String(length=64), nullable=True))
    op.add_column('principals', sa.Column('disabled_at', UTCDateTime(), nullable=True))
    op.create_index('ix_principals_org_id', 'principals', ['org_id'], unique=False)
    op.create_table('training_records',
    sa.Column('principal_id', sa.String(length=64), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['principal_id'], ['principals.id'],
                            name=op.f('fk_training_records_principal_id_principals')),
    sa.PrimaryKeyConstraint('principal_id', name=op.f('pk_training_records'))
    )
    op.add_column('agreements', sa.Column('requires_training', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))


def downgrade() -> None:
    # Columns dropped one by one (SQLite drops a plain column in place): recreating a table
    # that others refer to would fail their foreign keys once it holds rows.
    op.drop_column('agreements', 'requires_training')
    op.drop_table('training_records')
    op.drop_index('ix_principals_org_id', table_name='principals')
    for column in ('disabled_at', 'created_by', 'system_id'):
        op.drop_column('principals', column)
    op.drop_column('identifier_schemes', 'pattern')
    op.drop_index(op.f('ix_member_events_org_id'), table_name='member_events')
    op.drop_table('member_events')
    op.drop_column('organisations', 'registered_at')
    op.drop_column('organisations', 'status')
