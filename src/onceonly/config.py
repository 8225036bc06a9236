"""Settings from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path("onceonly-data")


def database_url(explicit: str | None = None) -> str:
    """--db, else ONCEONLY_DATABASE_URL, else the embedded SQLite file."""
    return (
        explicit
        or os.environ.get("ONCEONLY_DATABASE_URL")
        or f"sqlite:///{(DEFAULT_DATA_DIR / 'exchange.sqlite').resolve()}"
    )
