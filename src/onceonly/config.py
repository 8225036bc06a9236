"""Settings from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = Path("onceonly-data")


def operator_org() -> str:
    """The organisation that runs the exchange: its key signs the audit log's tree heads."""
    return os.environ.get("ONCEONLY_OPERATOR_ORG", "GOV/EXCHANGE")


def audit_interval() -> float:
    """Seconds between integrations of new audit entries under a signed tree head (0: off)."""
    raw = os.environ.get("ONCEONLY_AUDIT_INTERVAL", "1")
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(
            f"ONCEONLY_AUDIT_INTERVAL must be a number of seconds, not {raw!r}") from None
    if seconds < 0:
        raise ValueError("ONCEONLY_AUDIT_INTERVAL cannot be negative")
    return seconds


def database_url(explicit: str | None = None) -> str:
    """--db, else ONCEONLY_DATABASE_URL, else the embedded SQLite file."""
    return (
        explicit
        or os.environ.get("ONCEONLY_DATABASE_URL")
        or f"sqlite:///{(DEFAULT_DATA_DIR / 'exchange.sqlite').resolve()}"
    )
