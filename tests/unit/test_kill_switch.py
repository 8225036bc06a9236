"""The kill switch: who pulls it, over what, and who restores it, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.domain import kill_switch as ks
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from tests.unit.factories import NOW, principal

GUARDIAN = principal("GOV/HMRC", Role.GUARDIAN, "hmrc-g1")


def refused(fn, *args) -> DomainError:
    with pytest.raises(DomainError) as error:
        fn(*args)
    return error.value


def test_a_pull_is_exactly_the_switch_over_the_agreements_given():
    switch = ks.pull(GUARDIAN, "GOV/DWP", "  breach at a contractor ", [3, 1], NOW)
    assert switch == ks.KillSwitch(None, "GOV/HMRC", "GOV/DWP", (3, 1), "hmrc-g1", NOW,
                                   "breach at a contractor")
    assert not switch.restored


@pytest.mark.parametrize(("actor", "consumer", "reason", "kind", "code"), [
    (principal("GOV/HMRC", Role.OFFICER), "GOV/DWP", "why", ErrorKind.FORBIDDEN,
     "not_provider_guardian"),
    (principal("GOV/HMRC", Role.ADMIN), "GOV/DWP", "why", ErrorKind.FORBIDDEN,
     "not_provider_guardian"),
    (GUARDIAN, "GOV/HMRC", "why", ErrorKind.INVALID, "self_kill_switch"),
    (GUARDIAN, "dwp", "why", ErrorKind.INVALID, "invalid_org_id"),
    (GUARDIAN, "GOV/DWP", " \n", ErrorKind.INVALID, "reason_required"),
])
def test_a_pull_is_refused(actor, consumer, reason, kind, code):
    error = refused(ks.pull, actor, consumer, reason, [1], NOW)
    assert (error.kind, error.code) == (kind, code)


def test_a_guardian_of_the_same_provider_restores_it_once():
    switch = ks.pull(GUARDIAN, "GOV/DWP", "breach", [1], NOW)
    later = NOW + timedelta(hours=2)
    other = principal("GOV/HMRC", Role.GUARDIAN, "hmrc-g2")
    restored = ks.restore(switch, other, "  contained ", later)
    assert restored.restored
    assert (restored.restored_by, restored.restored_at, restored.restore_reason) == (
        "hmrc-g2", later, "contained")
    assert restored.agreement_ids == (1,) and restored.reason == "breach"
    error = refused(ks.restore, restored, other, "again", later)
    assert (error.kind, error.code) == (ErrorKind.CONFLICT, "already_restored")
    assert error.detail == "kill switch None was restored at 2026-11-24 14:00 UTC"


@pytest.mark.parametrize("actor", [
    principal("GOV/DWP", Role.GUARDIAN), principal("GOV/HMRC", Role.OFFICER)])
def test_anyone_else_is_told_there_is_no_such_switch(actor):
    switch = ks.pull(GUARDIAN, "GOV/DWP", "breach", [1], NOW)
    for found, who in ((switch, actor), (None, GUARDIAN)):
        error = refused(ks.restore, found, who, "why", NOW)
        assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "kill_switch_unknown")


def test_a_restore_needs_a_reason():
    switch = ks.pull(GUARDIAN, "GOV/DWP", "breach", [1], NOW)
    error = refused(ks.restore, switch, GUARDIAN, "  ", NOW)
    assert (error.kind, error.code) == (ErrorKind.INVALID, "reason_required")
