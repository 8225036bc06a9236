"""special-category condition: the UK GDPR Article 9 (DPA 2018 Schedule 1) condition an
agreement releasing special-category data rests on

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('agreements', sa.Column('special_category_condition', sa.String(length=40),
                                          nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('agreements') as batch:
        batch.drop_column('special_category_condition')
