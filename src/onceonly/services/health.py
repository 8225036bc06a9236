"""The readiness use case: whether the exchange can serve, and if not, why."""

from __future__ import annotations

from onceonly.services.ports.health import Database, PrivateKeys, TreeHeadSigner


class HealthService:
    def __init__(self, database: Database, audit: TreeHeadSigner,
                 keys: PrivateKeys | None = None) -> None:
        self.database = database
        self.audit = audit
        self.keys = keys

    def check(self) -> None:
        """Ready to serve: the database answers and is migrated to this code's schema, the
        operator can sign tree heads, and the private keys decrypt with the master keys;
        else raise what is missing, the first thing first (a database error,
        SchemaNotCurrent, ExchangeNotInitialised, MasterKeyUnavailable, ...)."""
        self.database.ping()
        self.database.check_migrated()
        self.audit.check_signer()
        if self.keys is not None:
            self.keys.check_private_keys()
