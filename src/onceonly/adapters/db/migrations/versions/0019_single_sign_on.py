"""single sign-on: organisations' OpenID providers, sign-ins under way at a provider, who a
provider's people are here, sessions started through a provider (for signing out there),
and citizens One Login proved who wait for their record to be confirmed

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('identity_providers',
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('client_auth', sa.String(length=32), nullable=False),
    sa.Column('secret', sa.String(length=300), nullable=False),
    sa.Column('person_claim', sa.String(length=100), nullable=False),
    sa.Column('name_claim', sa.String(length=100), nullable=False),
    sa.Column('roles_claim', sa.String(length=100), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('org_claim', sa.String(length=100), nullable=True),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'],
                            name=op.f('fk_identity_providers_org_id_organisations')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_identity_providers'))
    )
    op.create_table('sign_in_attempts',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=100), nullable=False),
    sa.Column('nonce', sa.String(length=100), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_sign_in_attempts'))
    )
    op.create_index(op.f('ix_sign_in_attempts_expires_at'), 'sign_in_attempts',
                    ['expires_at'], unique=False)
    op.create_table('provider_people',
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('person', sa.String(length=255), nullable=False),
    sa.Column('principal_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['principal_id'], ['principals.id'],
                            name=op.f('fk_provider_people_principal_id_principals')),
    sa.PrimaryKeyConstraint('issuer', 'person', name=op.f('pk_provider_people'))
    )
    op.create_index(op.f('ix_provider_people_principal_id'), 'provider_people',
                    ['principal_id'], unique=False)
    op.create_table('provider_sessions',
    sa.Column('session_digest', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=True),
    sa.Column('id_token', sa.Text(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('session_digest', name=op.f('pk_provider_sessions'))
    )
    op.create_index(op.f('ix_provider_sessions_expires_at'), 'provider_sessions',
                    ['expires_at'], unique=False)
    op.create_table('citizen_link_requests',
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('person', sa.String(length=255), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('comparisons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('issuer', 'person', name=op.f('pk_citizen_link_requests'))
    )


def downgrade() -> None:
    op.drop_table('citizen_link_requests')
    op.drop_table('provider_sessions')
    op.drop_table('provider_people')
    op.drop_table('sign_in_attempts')
    op.drop_table('identity_providers')
