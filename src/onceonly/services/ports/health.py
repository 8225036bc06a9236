"""Readiness: the database the exchange runs on."""

from __future__ import annotations

from typing import Protocol


class Database(Protocol):
    def ping(self) -> None:
        """Return once the database answers a trivial statement; else raise the driver's
        error (the entry point answers it as the database being unavailable)."""


class TreeHeadSigner(Protocol):
    def check_signer(self) -> None:
        """Raise ExchangeNotInitialised unless the operator's key can sign tree heads."""
