"""Readiness: the database the exchange runs on, its schema, and its keys."""

from __future__ import annotations

from typing import Protocol


class SchemaNotCurrent(Exception):
    """The database's schema is behind the one this code was written for."""

    def __init__(self, revision: str | None, head: str) -> None:
        super().__init__(f"the database is at schema revision {revision or '(none)'}, this "
                         f"code needs {head}")
        self.revision = revision
        self.head = head


class Database(Protocol):
    def ping(self) -> None:
        """Return once the database answers a trivial statement; else raise the driver's
        error (the entry point answers it as the database being unavailable)."""

    def check_migrated(self) -> None:
        """Raise SchemaNotCurrent if the schema is behind this code's (not set up, or not
        migrated yet); a newer release's schema, which only expands, is not."""


class TreeHeadSigner(Protocol):
    def check_signer(self) -> None:
        """Raise ExchangeNotInitialised unless the operator's key can sign tree heads."""


class PrivateKeys(Protocol):
    def check_private_keys(self) -> None:
        """Raise MasterKeyUnavailable or EnvelopeInvalid unless the operator's private key
        decrypts with the master keys."""
