"""Readiness: the database the exchange runs on, its schema, and its keys."""

from __future__ import annotations

from typing import Protocol


class SchemaNotCurrent(Exception):
    """The database's schema is not the one this code was written for (not migrated yet, or
    migrated by a newer version)."""

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
        """Raise SchemaNotCurrent unless the schema is the one this code knows as newest."""


class TreeHeadSigner(Protocol):
    def check_signer(self) -> None:
        """Raise ExchangeNotInitialised unless the operator's key can sign tree heads."""


class PrivateKeys(Protocol):
    def check_private_keys(self) -> None:
        """Raise MasterKeyUnavailable or EnvelopeInvalid unless the operator's private key
        decrypts with the master keys."""
