"""deliveries: the agreement may be absent (a provider told of a correction to its own record)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Relaxing NOT NULL expands: the previous release always writes an agreement.
    with op.batch_alter_table('deliveries') as batch:
        batch.alter_column('agreement_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE agreement_id IS NULL")
    with op.batch_alter_table('deliveries') as batch:
        batch.alter_column('agreement_id', existing_type=sa.Integer(), nullable=False)
