"""Issuing API tokens on fakes: a new principal with only its token's digest stored."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.crypto.tokens import token_digest
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from onceonly.services.tokens import issue_token
from tests.fakes.clock import FixedClock
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import NOW
from tests.unit.services.conftest import CONSUMER, NINO, PERSON


def test_a_token_is_issued_to_a_new_principal_and_only_its_digest_kept(
        uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    principal, token = issue_token(uows, clock, org_id=CONSUMER, role=Role.OFFICER, days=2)
    assert uows.data.principals[principal.id] == principal
    assert principal.org_id == CONSUMER and principal.role is Role.OFFICER
    assert token not in str(uows.data.tokens)
    stored = uows.data.tokens[token_digest(token)]
    assert (stored.principal_id, stored.expires_at) == (principal.id, NOW + timedelta(days=2))
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.org_id, record.entry.detail) == (
        "token.issue", CONSUMER, {"principal": principal.id, "role": "officer", "days": 2})


def test_a_citizens_token_names_their_person(uows: FakeUnitOfWorkFactory,
                                             clock: FixedClock) -> None:
    citizen, _ = issue_token(uows, clock, org_id=CONSUMER, role=Role.CITIZEN,
                             person=f"nino:{NINO}")
    assert citizen.person_key == PERSON


@pytest.mark.parametrize(("changes", "kind", "code"), [
    ({"org_id": "GOV/NOBODY"}, ErrorKind.NOT_FOUND, "unknown_organisation"),
    ({"role": Role.CITIZEN}, ErrorKind.INVALID, "person_required"),
    ({"person": f"nino:{NINO}"}, ErrorKind.INVALID, "person_required"),
    ({"days": 0}, ErrorKind.INVALID, "invalid_expiry"),
    ({"days": 367}, ErrorKind.INVALID, "invalid_expiry"),
    ({"role": Role.CITIZEN, "person": "nino:ZZ000000Z"}, ErrorKind.NOT_FOUND,
     "subject_unknown"),
    ({"role": Role.ADMIN}, ErrorKind.FORBIDDEN, "admin_not_operator"),
    ({"role": Role.ADMIN, "operator_org": "GOV/EXCHANGE"}, ErrorKind.FORBIDDEN,
     "admin_not_operator"),
])
def test_a_token_refused_issues_nothing(uows: FakeUnitOfWorkFactory, clock: FixedClock,
                                        changes: dict[str, object], kind: ErrorKind,
                                        code: str) -> None:
    args: dict[str, object] = {"org_id": CONSUMER, "role": Role.OFFICER} | changes
    with pytest.raises(DomainError) as caught:
        issue_token(uows, clock, **args)  # type: ignore[arg-type]
    assert (caught.value.kind, caught.value.code) == (kind, code)
    assert uows.data.principals == {} and uows.data.tokens == {}
    [record] = uows.data.audit  # the refusal, with its reason
    assert (record.entry.action, record.entry.outcome, record.entry.reason) == (
        "token.issue", "deny", code)


def test_the_operators_administrator_is_issued_a_token(uows: FakeUnitOfWorkFactory,
                                                       clock: FixedClock) -> None:
    admin, _ = issue_token(uows, clock, org_id=CONSUMER, role=Role.ADMIN,
                           operator_org=CONSUMER)
    assert admin.role is Role.ADMIN and admin.org_id == CONSUMER
