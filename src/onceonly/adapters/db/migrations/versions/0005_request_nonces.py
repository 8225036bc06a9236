"""signed requests: the nonces seen, so that a replayed request is refused

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('request_nonces',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kid', 'nonce', name=op.f('pk_request_nonces'))
    )
    op.create_index(op.f('ix_request_nonces_expires_at'), 'request_nonces', ['expires_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_request_nonces_expires_at'), table_name='request_nonces')
    op.drop_table('request_nonces')
