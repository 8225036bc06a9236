"""Alembic, driven from code: `onceonly db upgrade` and the test fixtures call this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
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


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
