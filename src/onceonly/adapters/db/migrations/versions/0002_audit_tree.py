"""tamper-evident audit log: Merkle tree nodes, signed tree heads, dense 0-based indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import os

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_log", "audit_nodes", "audit_tree_heads")


def upgrade() -> None:
    op.add_column('audit_log', sa.Column('hidden_until', UTCDateTime(), nullable=True))
    op.drop_index('ix_audit_log_agreement_id', table_name='audit_log')
    op.drop_index('ix_audit_log_person_key', table_name='audit_log')
    op.create_index('ix_audit_log_person_key_seq', 'audit_log', ['person_key', 'seq'])
    op.create_index('ix_audit_log_provider_id_seq', 'audit_log', ['provider_id', 'seq'])
    op.create_index('ix_audit_log_actor_id_seq', 'audit_log', ['actor_id', 'seq'])
    op.add_column('agreements', sa.Column('hidden_days', sa.Integer(), server_default='0',
                                          nullable=False))
    op.create_table('audit_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_counter'))
    )
    op.create_table('audit_nodes',
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('idx', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx', name=op.f('pk_audit_nodes'))
    )
    op.create_table('audit_tree_heads',
    sa.Column('tree_size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_audit_tree_heads'))
    )
    op.create_table('exchange_secrets',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_exchange_secrets'))
    )
    secrets = sa.table('exchange_secrets', sa.column('name'), sa.column('value'))
    op.bulk_insert(secrets, [{'name': 'officer-pseudonym', 'value': os.urandom(32)}])

    # Leaf indexes count from 0 with no gaps; entries from before this revision (numbered
    # by an autoincrement from 1, gaps possible) are renumbered in order.
    _drop_append_only("audit_log")
    count = _renumber_audit_log()
    counter = sa.table('audit_counter', sa.column('id'), sa.column('next_index'))
    op.bulk_insert(counter, [{'id': 1, 'next_index': count}])
    for table in APPEND_ONLY:
        _make_append_only(table)
    if op.get_bind().dialect.name == "sqlite":
        # An append reads the counter in its INSERT; this moves it on (on PostgreSQL the
        # append's own statement updates it, under the row lock that orders appends).
        op.execute("CREATE TRIGGER audit_log_counts AFTER INSERT ON audit_log BEGIN "
                   "UPDATE audit_counter SET next_index = next_index + 1 WHERE id = 1; END")


def _renumber_audit_log() -> int:
    conn = op.get_bind()
    old = conn.execute(sa.text("SELECT seq FROM audit_log ORDER BY seq")).scalars().all()
    conn.execute(sa.text("UPDATE audit_log SET seq = -seq"))  # out of the way of 0..n-1
    for index, seq in enumerate(old):
        conn.execute(sa.text("UPDATE audit_log SET seq = :new WHERE seq = :old"),
                     {"new": index, "old": -seq})
    return len(old)


def _make_append_only(table: str) -> None:
    """The database itself refuses UPDATE and DELETE (and on PostgreSQL, TRUNCATE)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    else:
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{verb}")
    else:
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION {table}_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_counts")
    for table in APPEND_ONLY:
        _drop_append_only(table)
    op.drop_table('exchange_secrets')
    op.drop_table('audit_tree_heads')
    op.drop_table('audit_nodes')
    op.drop_table('audit_counter')
    op.drop_index('ix_audit_log_actor_id_seq', table_name='audit_log')
    op.drop_index('ix_audit_log_provider_id_seq', table_name='audit_log')
    op.drop_index('ix_audit_log_person_key_seq', table_name='audit_log')
    op.create_index('ix_audit_log_person_key', 'audit_log', ['person_key'])
    op.create_index('ix_audit_log_agreement_id', 'audit_log', ['agreement_id'])
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_column('hidden_days')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('hidden_until')
    # Indexes stay 0-based: 0001's autoincrement simply continues after the highest.
    _make_append_only("audit_log")
