"""citizens: consents with their receipts, accuracy challenges and corrections

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('granted_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('withdrawn_at', UTCDateTime(), nullable=True),
    sa.Column('grant_receipt', sa.Text(), nullable=False),
    sa.Column('withdrawal_receipt', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['consumer_id'], ['organisations.id'],
                            name=op.f('fk_consents_consumer_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    op.create_index('ix_consents_person_key_purpose', 'consents', ['person_key', 'purpose'],
                    unique=False)
    op.create_table('challenges',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('dataset_id', sa.String(length=100), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('what_is_wrong', sa.Text(), nullable=True),
    sa.Column('proposed_value', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('raised_at', UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'],
                            name=op.f('fk_challenges_dataset_id_datasets')),
    sa.ForeignKeyConstraint(['provider_id'], ['organisations.id'],
                            name=op.f('fk_challenges_provider_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenges'))
    )
    op.create_index(op.f('ix_challenges_person_key'), 'challenges', ['person_key'],
                    unique=False)
    op.create_index('ix_challenges_provider_id_status', 'challenges',
                    ['provider_id', 'status'], unique=False)
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('challenge_id', sa.Integer(), nullable=False),
    sa.Column('corrected_by', sa.String(length=64), nullable=False),
    sa.Column('corrected_at', UTCDateTime(), nullable=False),
    sa.Column('values_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'],
                            name=op.f('fk_corrections_challenge_id_challenges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrections')),
    sa.UniqueConstraint('challenge_id', name=op.f('uq_corrections_challenge_id'))
    )
    op.create_table('correction_notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('correction_id', sa.Integer(), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('release_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'],
                            name=op.f('fk_correction_notices_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['consumer_id'], ['organisations.id'],
                            name=op.f('fk_correction_notices_consumer_id_organisations')),
    sa.ForeignKeyConstraint(['correction_id'], ['corrections.id'],
                            name=op.f('fk_correction_notices_correction_id_corrections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_notices'))
    )
    op.create_index('ix_correction_notices_consumer_id_id', 'correction_notices',
                    ['consumer_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_correction_notices_consumer_id_id', table_name='correction_notices')
    op.drop_table('correction_notices')
    op.drop_table('corrections')
    op.drop_index('ix_challenges_provider_id_status', table_name='challenges')
    op.drop_index(op.f('ix_challenges_person_key'), table_name='challenges')
    op.drop_table('challenges')
    op.drop_index('ix_consents_person_key_purpose', table_name='consents')
    op.drop_table('consents')
