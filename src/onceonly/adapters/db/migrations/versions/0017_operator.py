"""the exchange's operator, stored when it is initialised: which member runs it (the one
registered by `onceonly init`, found in the members' history for exchanges set up before)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('organisations', sa.Column('operator', sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.execute("UPDATE organisations SET operator = true WHERE id IN (SELECT org_id FROM "
               "member_events WHERE action = 'register' "
               "AND reason = 'the exchange''s operator')")


def downgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('operator')
