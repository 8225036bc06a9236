"""encryption at rest: the organisations' data keys, wrapped by a master key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

`signing_keys.private_jwk` keeps its type (JSON): from now on it holds an envelope. Rows
already there stay plaintext until first read or `onceonly keys rotate` encrypts them, so
upgrading needs no master key. Downgrading decrypts them back, 0003 reading only
plaintext: if any is encrypted it needs the exchange's envelopes, given by the caller
(`migrate.alembic_config(engine, envelopes=bootstrap(...).envelopes)`).
"""

import sqlalchemy as sa
from alembic import context, op

from onceonly.adapters.db.tables import UTCDateTime
from onceonly.adapters.keystore import open_private_key
from onceonly.crypto.envelope import is_envelope

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_keys',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('master_key_id', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_data_keys_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_keys'))
    )
    op.create_index(op.f('ix_data_keys_org_id'), 'data_keys', ['org_id'], unique=False)


def downgrade() -> None:
    _decrypt_private_keys()
    op.drop_index(op.f('ix_data_keys_org_id'), table_name='data_keys')
    op.drop_table('data_keys')


def _decrypt_private_keys() -> None:
    conn = op.get_bind()
    keys = sa.table('signing_keys', sa.column('kid', sa.String), sa.column('org_id', sa.String),
                    sa.column('private_jwk', sa.JSON))
    sealed = [row for row in conn.execute(sa.select(keys.c.kid, keys.c.org_id,
                                                    keys.c.private_jwk))
              if is_envelope(row.private_jwk)]
    if not sealed:
        return
    envelopes = context.config.attributes.get("envelopes")
    if envelopes is None:
        raise RuntimeError(f"{len(sealed)} private keys are encrypted: downgrading below 0004 "
                           "decrypts them, with the envelopes given to "
                           "migrate.alembic_config(engine, envelopes=...)")
    for row in sealed:
        key = open_private_key(envelopes, row.org_id, row.kid, row.private_jwk, conn=conn)
        conn.execute(sa.update(keys).where(keys.c.kid == row.kid)
                     .values(private_jwk=key.private_jwk()))
