"""standing version: one counter that triggers move on every change to what a principal's
or an agreement's standing rests on, so that a server may keep both in memory until it moves

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# What a governed query reads of its caller and its agreement (services/standing.py keeps
# them; tests/integration/test_standing_cache.py holds each of these tables to its triggers).
WATCHED = ('api_tokens', 'principals', 'organisations', 'training_records', 'agreements',
           'datasets', 'kill_switches')
_OPERATIONS = ('INSERT', 'UPDATE', 'DELETE')


def upgrade() -> None:
    op.create_table('standing_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standing_version'))
    )
    op.bulk_insert(sa.table('standing_version', sa.column('id'), sa.column('version')),
                   [{'id': 1, 'version': 1}])
    if op.get_bind().dialect.name == 'sqlite':
        # One writer at a time: a row trigger in the writer's transaction is enough.
        for table in WATCHED:
            for operation in _OPERATIONS:
                op.execute(f"CREATE TRIGGER standing_{table}_{operation.lower()} AFTER "
                           f"{operation} ON {table} BEGIN UPDATE standing_version "
                           "SET version = version + 1 WHERE id = 1; END")
        return
    # Deferred to the commit: the counter's row lock is the last a transaction takes, so it
    # never waits on it while holding others (no deadlock between two changes).
    op.execute("CREATE FUNCTION standing_moved() RETURNS trigger LANGUAGE plpgsql AS $$ "
               "BEGIN UPDATE standing_version SET version = version + 1 WHERE id = 1; "
               "RETURN NULL; END $$")
    for table in WATCHED:
        op.execute(f"CREATE CONSTRAINT TRIGGER standing_{table} AFTER INSERT OR UPDATE OR "
                   f"DELETE ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                   "EXECUTE FUNCTION standing_moved()")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for table in WATCHED:
            for operation in _OPERATIONS:
                op.execute(f"DROP TRIGGER standing_{table}_{operation.lower()}")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER standing_{table} ON {table}")
        op.execute("DROP FUNCTION standing_moved()")
    op.drop_table('standing_version')
