"""Readiness: the database is asked first, then the operator's signer; either failing is
raised as it is, for the entry point to answer with its own code."""

from __future__ import annotations

import pytest

from onceonly.services.audit import ExchangeNotInitialised
from onceonly.services.health import HealthService


class Calls:
    def __init__(self, failing: str | None = None) -> None:
        self.failing = failing
        self.made: list[str] = []

    def ping(self) -> None:
        self.made.append("ping")
        if self.failing == "ping":
            raise ConnectionError("database down")

    def check_signer(self) -> None:
        self.made.append("check_signer")
        if self.failing == "check_signer":
            raise ExchangeNotInitialised("no operator key")


def test_ready_when_the_database_answers_and_the_operator_can_sign() -> None:
    calls = Calls()
    HealthService(calls, calls).check()
    assert calls.made == ["ping", "check_signer"]


def test_a_database_that_does_not_answer_is_raised_before_the_signer_is_asked() -> None:
    calls = Calls(failing="ping")
    with pytest.raises(ConnectionError):
        HealthService(calls, calls).check()
    assert calls.made == ["ping"]


def test_an_exchange_without_an_operator_key_is_not_ready() -> None:
    calls = Calls(failing="check_signer")
    with pytest.raises(ExchangeNotInitialised):
        HealthService(calls, calls).check()
