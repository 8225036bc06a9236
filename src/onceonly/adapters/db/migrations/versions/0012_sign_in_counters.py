"""sign-in counters per account, per address and login, per second factor

The counters' keys change (digests of what they count, never an address alone) and a
counter now lasts from its last failure, so the table is made again: counts in flight
at the upgrade are dropped, which only forgives failures of the last hour.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # contract: made before the first release, when no two versions ran side by side; the
    # throttle's counts are short-lived, and its old shape is read by no later code.
    op.drop_table('sign_in_throttle')
    op.create_table('sign_in_throttle',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', UTCDateTime(), nullable=False),
    sa.Column('closed_until', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttle'))
    )
    op.create_index(op.f('ix_sign_in_throttle_last_failure_at'), 'sign_in_throttle',
                    ['last_failure_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_sign_in_throttle_last_failure_at'), table_name='sign_in_throttle')
    op.drop_table('sign_in_throttle')
    op.create_table('sign_in_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', UTCDateTime(), nullable=False),
    sa.Column('locked_until', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttle'))
    )
