"""citizen languages: the language (English or Welsh) each citizen chose on the pages, kept
by person, for their pages after sign-in and for the organisations told of what they report

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('citizen_languages',
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('chosen_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('person_key', name=op.f('pk_citizen_languages'))
    )


def downgrade() -> None:
    op.drop_table('citizen_languages')
