"""audit evidence: RFC 3161 timestamps and witnesses' cosignatures of tree heads, what this
exchange last cosigned as a witness, archive bundles exported, and the removal of entries
from the live log once exported (the only deletes its append-only rule lets through)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0016'
down_revision = '0015'
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


    op.create_table('audit_exports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('start_at', UTCDateTime(), nullable=False),
    sa.Column('end_at', UTCDateTime(), nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('entries', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('exported_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_exports'))
    )
    op.create_table('audit_retention',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pruned_below', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_retention'))
    )
    op.execute("INSERT INTO audit_retention (id, pruned_below) VALUES (1, 0)")
    _deletes(pruned_only=True)


# The append-only rule of 0002, with one way through for DELETE: on SQLite, rows below the
# retention mark (moved in the same transaction); on PostgreSQL, whose statement trigger sees
# no rows, a transaction that set onceonly.audit_prune (the prune deletes only below the mark).
_SQLITE_DELETE = ("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log {when}"
                  "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
_SQLITE_PRUNED = ("WHEN OLD.seq >= COALESCE((SELECT pruned_below FROM audit_retention "
                  "WHERE id = 1), 0) ")
_PG_FUNCTION = ("CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN {allow}"
                "RAISE EXCEPTION 'audit_log is append-only'; END $$")
_PG_PRUNE = ("IF TG_OP = 'DELETE' AND current_setting('onceonly.audit_prune', true) = 'on' "
             "THEN RETURN NULL; END IF; ")


def _deletes(pruned_only: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_delete")
        op.execute(_SQLITE_DELETE.format(when=_SQLITE_PRUNED if pruned_only else ""))
    else:
        op.execute(_PG_FUNCTION.format(allow=_PG_PRUNE if pruned_only else ""))


def downgrade() -> None:
    _deletes(pruned_only=False)
    op.drop_table('audit_retention')
    op.drop_table('audit_exports')
    op.drop_table('witness_checkpoints')
    op.drop_table('audit_head_cosignatures')
    op.drop_table('audit_head_timestamps')
