"""The zero-downtime rule (docs/operations.md, "Migrations"): a migration's upgrade only
expands the schema, so that the servers still running the previous release keep working
while the new one rolls out. It adds tables, nullable columns (or columns with a server
default) and indexes; it drops, renames or tightens nothing. What the previous release no
longer uses is removed in a later release's migration (contract), marked on the line above
with `# contract:` and why it is safe then."""

from __future__ import annotations

import ast
from pathlib import Path

from onceonly.adapters.db.migrate import MIGRATIONS

CONTRACTING = {"drop_table", "drop_column", "rename_table", "alter_column",
               "drop_constraint", "create_unique_constraint"}


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _not_null_without_default(call: ast.Call) -> bool:
    """op.add_column(table, sa.Column(..., nullable=False)) with no server_default: the
    previous release's inserts, which do not name it, would fail."""
    column = next((a for a in call.args if isinstance(a, ast.Call)), None)
    if column is None:
        return False
    nullable = _keyword(column, "nullable")
    return (isinstance(nullable, ast.Constant) and nullable.value is False
            and _keyword(column, "server_default") is None)


def _relaxes_only(call: ast.Call) -> bool:
    """alter_column(..., nullable=True) and nothing else changed: the previous release's
    writes, which always give a value, still pass."""
    changed = {k.arg for k in call.keywords if not (k.arg or "").startswith("existing_")}
    nullable = _keyword(call, "nullable")
    return changed == {"nullable"} and isinstance(nullable, ast.Constant) \
        and nullable.value is True


def violations(source: str) -> list[tuple[int, str]]:
    """(line, operation) of each contracting step of upgrade() not marked `# contract:`."""
    lines = source.splitlines()
    upgrade = next(node for node in ast.walk(ast.parse(source))
                   if isinstance(node, ast.FunctionDef) and node.name == "upgrade")
    found = []
    for call in (n for n in ast.walk(upgrade) if isinstance(n, ast.Call)):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else None
        bad = (name in CONTRACTING and not (name == "alter_column" and _relaxes_only(call))) \
            or (name == "add_column" and _not_null_without_default(call))
        marked = any("# contract:" in line for line in lines[max(call.lineno - 3, 0):
                                                              call.lineno])
        if bad and not marked:
            found.append((call.lineno, str(name)))
    return found


def test_every_migration_only_expands_or_marks_its_contraction() -> None:
    scripts = sorted((MIGRATIONS / "versions").glob("*.py"))
    assert len(scripts) >= 13
    broken = {script.name: v for script in scripts
              if (v := violations(script.read_text()))}
    assert broken == {}, (
        "a migration drops, renames or tightens in upgrade(): old servers still running "
        "during a deploy would break. Expand now, contract in a later release, marked "
        "`# contract: why it is safe` (docs/operations.md, Migrations)")


def test_the_rule_catches_what_it_names() -> None:
    source = '''
def upgrade():
    op.add_column('t', sa.Column('a', sa.Integer(), nullable=True))
    op.add_column('t', sa.Column('b', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('t', sa.Column('c', sa.Integer(), nullable=False))
    op.drop_column('t', 'd')
    with op.batch_alter_table('t') as batch:
        batch.alter_column('e', new_column_name='f')
        batch.alter_column('h', existing_type=sa.Integer(), nullable=True)
        batch.alter_column('i', nullable=False)
    # contract: release 2 stopped reading g
    op.drop_column('t', 'g')
    op.create_index('ix', 't', ['a'])

def downgrade():
    op.drop_table('t')
'''
    assert violations(source) == [(5, "add_column"), (6, "drop_column"),
                                  (8, "alter_column"), (10, "alter_column")]


def test_a_mark_counts_only_just_above_its_step(tmp_path: Path) -> None:
    source = "def upgrade():\n    # contract: far away\n\n\n    op.drop_table('t')\n"
    assert violations(source) == [(5, "drop_table")]
