"""The readiness use case: whether the exchange can serve, and if not, why."""

from __future__ import annotations

from typing import Protocol


class Database(Protocol):
    def ping(self) -> None:
        """Return once the database answers a trivial statement; else raise the driver's
        error (the entry point answers it as the database being unavailable)."""


class TreeHeadSigner(Protocol):
    def check_signer(self) -> None:
        """Raise ExchangeNotInitialised unless the operator's key can sign tree heads."""


class HealthService:
    def __init__(self, database: Database, audit: TreeHeadSigner) -> None:
        self.database = database
        self.audit = audit

    def check(self) -> None:
        """Ready to serve: the database answers and the operator can sign tree heads; else
        raise what is missing (a database error, ExchangeNotInitialised, ...)."""
        self.database.ping()
        self.audit.check_signer()
