"""identity: link candidates awaiting a guardian, match weights, pairwise pseudonym keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

import os

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PAIRWISE_SECRET = 'pairwise-pseudonym'


def upgrade() -> None:
    op.create_table('pairwise_pseudonyms',
    sa.Column('pseudonym', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['organisations.id'], name=op.f('fk_pairwise_pseudonyms_consumer_id_organisations')),
    sa.PrimaryKeyConstraint('pseudonym', name=op.f('pk_pairwise_pseudonyms'))
    )
    op.create_table('link_candidates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('match_weight', sa.Float(), nullable=False),
    sa.Column('identifier_agreement', sa.Boolean(), nullable=False),
    sa.Column('comparisons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_link_candidates_org_id_organisations')),
    sa.ForeignKeyConstraint(['scheme'], ['identifier_schemes.code'], name=op.f('fk_link_candidates_scheme_identifier_schemes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_candidates')),
    sa.UniqueConstraint('scheme', 'value', 'person_key', name=op.f('uq_link_candidates_scheme'))
    )
    op.create_index('ix_link_candidates_org_id_status', 'link_candidates', ['org_id', 'status'])
    # The key each consumer's pseudonyms are derived from (services/identity.py), made here
    # like the officer-pseudonym key: it never leaves the exchange's database.
    secrets = sa.table('exchange_secrets', sa.column('name'), sa.column('value'))
    op.bulk_insert(secrets, [{'name': PAIRWISE_SECRET, 'value': os.urandom(32)}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM exchange_secrets WHERE name = :name")
               .bindparams(name=PAIRWISE_SECRET))
    op.drop_index('ix_link_candidates_org_id_status', table_name='link_candidates')
    op.drop_table('link_candidates')
    op.drop_table('pairwise_pseudonyms')
