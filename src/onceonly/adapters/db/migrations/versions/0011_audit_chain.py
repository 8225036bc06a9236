"""audit integrity: each signed tree head names the one before it; operator alerts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Heads signed before this revision keep NULL here: their payload names no predecessor.
    op.add_column('audit_tree_heads', sa.Column(
        'previous_size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
    op.add_column('audit_tree_heads', sa.Column('previous_root', sa.LargeBinary(length=32),
                                                nullable=True))
    op.create_table('operator_alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('cleared_at', UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_alerts'))
    )


def downgrade() -> None:
    op.drop_table('operator_alerts')
    # Plain ALTER TABLE (SQLite 3.35+), not a batch copy: the copy would lose the table's
    # append-only triggers.
    op.drop_column('audit_tree_heads', 'previous_root')
    op.drop_column('audit_tree_heads', 'previous_size')
