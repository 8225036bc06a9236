"""Readiness: the database is asked first, then whether its schema is this code's, then the
operator's signer, then the private keys; the first failing is raised as it is, for the
entry point to answer with its own code, and nothing after it is asked."""

from __future__ import annotations

import pytest

from onceonly.crypto.envelope import MasterKeyUnavailable
from onceonly.services.audit_integration import ExchangeNotInitialised
from onceonly.services.health import HealthService
from onceonly.services.ports.health import SchemaNotCurrent

FAILURES = {
    "ping": ConnectionError("database down"),
    "check_migrated": SchemaNotCurrent("0012", "0013"),
    "check_signer": ExchangeNotInitialised("no operator key"),
    "check_private_keys": MasterKeyUnavailable("no such master key"),
}
ORDER = list(FAILURES)


class Calls:
    def __init__(self, failing: str | None = None) -> None:
        self.failing = failing
        self.made: list[str] = []

    def _call(self, name: str) -> None:
        self.made.append(name)
        if self.failing == name:
            raise FAILURES[name]

    def ping(self) -> None:
        self._call("ping")

    def check_migrated(self) -> None:
        self._call("check_migrated")

    def check_signer(self) -> None:
        self._call("check_signer")

    def check_private_keys(self) -> None:
        self._call("check_private_keys")


def test_ready_when_everything_answers_each_asked_once_in_order() -> None:
    calls = Calls()
    HealthService(calls, calls, calls).check()
    assert calls.made == ORDER


def test_without_a_key_check_the_keys_are_not_asked() -> None:
    calls = Calls()
    HealthService(calls, calls).check()
    assert calls.made == ORDER[:3]


@pytest.mark.parametrize("failing", ORDER)
def test_the_first_failure_is_raised_and_nothing_after_it_is_asked(failing: str) -> None:
    calls = Calls(failing=failing)
    with pytest.raises(type(FAILURES[failing])):
        HealthService(calls, calls, calls).check()
    assert calls.made == ORDER[:ORDER.index(failing) + 1]


def test_a_schema_not_current_names_both_revisions() -> None:
    assert str(SchemaNotCurrent(None, "0013")) == (
        "the database is at schema revision (none), this code needs 0013")
    assert (SchemaNotCurrent("0099", "0013").revision,
            SchemaNotCurrent("0099", "0013").head) == ("0099", "0013")
