"""Alembic, driven from code: the `onceonly db` commands and the test fixtures call this."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from onceonly.services.envelopes import Envelopes

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine, *, envelopes: Envelopes | None = None) -> Config:
    """`envelopes`: for a downgrade below 0004, which decrypts the private keys."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    config.attributes["envelopes"] = envelopes
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str, *, envelopes: Envelopes | None = None) -> None:
    """Undo the migrations after `revision` (alembic.util.CommandError for a revision it
    does not know or that is not below the current one)."""
    command.downgrade(alembic_config(engine, envelopes=envelopes), revision)


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


@dataclass(frozen=True, slots=True)
class Revision:
    revision: str
    down_revision: str | None
    title: str


def history() -> list[Revision]:
    """Every migration this code knows, newest first."""
    return [Revision(str(script.revision), script.down_revision
                     if isinstance(script.down_revision, str | None) else None,
                     (script.doc or "").strip().splitlines()[0] if script.doc else "")
            for script in _scripts().walk_revisions()]


def known(revision: str) -> bool:
    """Whether this code knows the revision (a database migrated by a newer onceonly is at
    one it does not)."""
    return any(known.revision == revision for known in history())


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
