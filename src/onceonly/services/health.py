"""The readiness use case: whether the exchange can serve, and if not, why."""

from __future__ import annotations

from onceonly.services.ports.health import Database, TreeHeadSigner


class HealthService:
    def __init__(self, database: Database, audit: TreeHeadSigner) -> None:
        self.database = database
        self.audit = audit

    def check(self) -> None:
        """Ready to serve: the database answers and the operator can sign tree heads; else
        raise what is missing (a database error, ExchangeNotInitialised, ...)."""
        self.database.ping()
        self.audit.check_signer()
