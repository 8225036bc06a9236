"""Integrators in several processes at once (servers, the init step, `audit` commands):
whichever signs a head first, the others find it signed, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from onceonly.services.audit_verification import verify_log
from tests.integration.test_audit import append, batched
from tests.integration.test_audit import log as log  # noqa: F401 - the fixture


def test_an_integrator_that_found_the_log_empty_finds_its_first_head_signed_since(log):
    other, late = batched(log, 7), batched(log, 7)
    uows = late.uows

    def other_signs_first(**options: Any) -> Any:
        if options.get("write"):  # between the late one's look and its write
            late.uows = uows
            other.integrate()
        return uows(**options)

    late.uows = other_signs_first
    head = late.integrate()
    assert head.head.tree_size == 0
    with log.uows() as uow:
        assert [h.head for h in uow.tree.heads()] == [head.head]
    append(log, 3)
    assert late.integrate().head.tree_size == 3
    assert verify_log(log.uows, log.key_store.jwks()).ok
