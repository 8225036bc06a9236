"""organisations' own public keys; datasets published in versions, with derived answers

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('datasets', sa.Column('version', sa.Integer(), nullable=False,
                                        server_default='1'))
    op.add_column('datasets', sa.Column('offers', sa.JSON(), nullable=True))
    op.create_table(
        'dataset_versions',
        sa.Column('dataset_id', sa.String(length=100), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('offers', sa.JSON(), nullable=False),
        sa.Column('event_type', sa.String(length=100), nullable=True),
        sa.Column('connector_kind', sa.String(length=32), nullable=False),
        sa.Column('published_at', UTCDateTime(), nullable=True),
        sa.Column('published_by', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'],
                                name=op.f('fk_dataset_versions_dataset_id_datasets')),
        sa.PrimaryKeyConstraint('dataset_id', 'version', name=op.f('pk_dataset_versions')),
    )
    op.create_table(
        'organisation_keys',
        sa.Column('kid', sa.String(length=64), nullable=False),
        sa.Column('org_id', sa.String(length=64), nullable=False),
        sa.Column('public_jwk', sa.JSON(), nullable=False),
        sa.Column('signs_requests', sa.Boolean(), nullable=False),
        sa.Column('verifies_received', sa.Boolean(), nullable=False),
        sa.Column('registered_at', UTCDateTime(), nullable=False),
        sa.Column('registered_by', sa.String(length=64), nullable=False),
        sa.Column('retired_at', UTCDateTime(), nullable=True),
        sa.Column('not_after', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'],
                                name=op.f('fk_organisation_keys_org_id_organisations')),
        sa.PrimaryKeyConstraint('kid', name=op.f('pk_organisation_keys')),
    )
    op.create_index(op.f('ix_organisation_keys_org_id'), 'organisation_keys', ['org_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_organisation_keys_org_id'), table_name='organisation_keys')
    op.drop_table('organisation_keys')
    op.drop_table('dataset_versions')
    # Dropped in place (SQLite 3.35+ too): rebuilding the table, as a batch operation would,
    # fails while agreements still refer to it.
    op.drop_column('datasets', 'offers')
    op.drop_column('datasets', 'version')
