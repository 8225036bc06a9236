"""citizens: accounts, sign-in sessions and sign-in throttling

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

import os

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

WEB_SECRET = 'web-forms'  # signs the pages' CSRF tokens (entrypoints/web)


def upgrade() -> None:
    op.create_table('citizen_accounts',
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('principal_id', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('totp', sa.JSON(), nullable=True),
    sa.Column('totp_pending', sa.JSON(), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['principal_id'], ['principals.id'], name=op.f('fk_citizen_accounts_principal_id_principals')),
    sa.PrimaryKeyConstraint('login', name=op.f('pk_citizen_accounts')),
    sa.UniqueConstraint('person_key', name=op.f('uq_citizen_accounts_person_key')),
    sa.UniqueConstraint('principal_id', name=op.f('uq_citizen_accounts_principal_id'))
    )
    op.create_table('web_sessions',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('principal_id', sa.String(length=64), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['principal_id'], ['principals.id'], name=op.f('fk_web_sessions_principal_id_principals')),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_web_sessions'))
    )
    op.create_index(op.f('ix_web_sessions_principal_id'), 'web_sessions', ['principal_id'])
    op.create_index(op.f('ix_web_sessions_expires_at'), 'web_sessions', ['expires_at'])
    op.create_table('sign_in_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', UTCDateTime(), nullable=False),
    sa.Column('locked_until', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttle'))
    )
    secrets = sa.table('exchange_secrets', sa.column('name'), sa.column('value'))
    op.bulk_insert(secrets, [{'name': WEB_SECRET, 'value': os.urandom(32)}])


def downgrade() -> None:
    op.execute(sa.text('DELETE FROM exchange_secrets WHERE name = :name')
               .bindparams(name=WEB_SECRET))
    op.drop_table('sign_in_throttle')
    op.drop_index(op.f('ix_web_sessions_expires_at'), table_name='web_sessions')
    op.drop_index(op.f('ix_web_sessions_principal_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_table('citizen_accounts')
