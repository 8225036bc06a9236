"""use limits (distinct persons a day, a use count) and the kill switch

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


def downgrade() -> None:
    op.drop_index('ix_kill_switches_provider_consumer', table_name='kill_switches')
    op.drop_table('kill_switches')
    op.drop_table('agreement_uses')
    op.drop_table('person_usage')
    with op.batch_alter_table('query_usage', schema=None) as batch_op:
        batch_op.drop_column('persons')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_column('max_uses')
        batch_op.drop_column('max_persons_per_day')
