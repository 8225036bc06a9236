"""audit evidence: RFC 3161 timestamps and witnesses' cosignatures of tree heads, and what
this exchange last cosigned as a witness

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None

_SIZE = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('audit_head_timestamps',
    sa.Column('tree_size', _SIZE, autoincrement=False, nullable=False),
    sa.Column('authority', sa.String(length=200), nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=False),
    sa.Column('stamped_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_audit_head_timestamps'))
    )
    op.create_table('audit_head_cosignatures',
    sa.Column('tree_size', _SIZE, autoincrement=False, nullable=False),
    sa.Column('witness', sa.String(length=200), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('signature', sa.LargeBinary(length=64), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', 'witness', name=op.f('pk_audit_head_cosignatures'))
    )
    op.create_table('witness_checkpoints',
    sa.Column('origin', sa.String(length=200), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('cosigned_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('origin', name=op.f('pk_witness_checkpoints'))
    )


def downgrade() -> None:
    op.drop_table('witness_checkpoints')
    op.drop_table('audit_head_cosignatures')
    op.drop_table('audit_head_timestamps')
