"""Who is calling, on fakes: a live token's principal, or a refusal audited with only a
prefix of the token's digest; roles checked and refused with an audit entry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onceonly.crypto.tokens import token_digest
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.organisations import Role
from onceonly.services.auth import AuthService, authenticate, require_role
from onceonly.services.request_signatures import SignaturePolicy, SignedBy
from tests.fakes.clock import FixedClock
from tests.fakes.data import Token
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import NOW, principal
from tests.unit.services.conftest import CONSUMER

OFFICER = principal(CONSUMER, Role.OFFICER)


@pytest.fixture
def tokens(uows: FakeUnitOfWorkFactory) -> FakeUnitOfWorkFactory:
    uows.data.principals[OFFICER.id] = OFFICER
    uows.data.tokens[token_digest("live")] = Token(OFFICER.id, NOW + timedelta(seconds=1))
    uows.data.tokens[token_digest("old")] = Token(OFFICER.id, NOW)
    uows.data.tokens[token_digest("gone")] = Token(OFFICER.id, NOW + timedelta(days=1), NOW)
    return uows


def test_a_live_token_is_its_principal_and_nothing_is_audited(
        tokens: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    assert authenticate(tokens, clock, "live") == OFFICER
    assert tokens.data.audit == []


@pytest.mark.parametrize(("token", "code"), [
    (None, "token_missing"), ("", "token_missing"), ("forged", "token_invalid"),
    ("old", "token_expired"), ("gone", "token_revoked"),
])
def test_a_refused_token_is_audited_with_a_digest_prefix_only(
        tokens: FakeUnitOfWorkFactory, clock: FixedClock, token: str | None, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        authenticate(tokens, clock, token)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.UNAUTHENTICATED, code)
    [record] = tokens.data.audit
    entry = record.entry
    assert (entry.action, entry.outcome, entry.reason, entry.actor_id) == (
        "auth", "deny", code, None)
    assert entry.detail == ({"token_digest_prefix": token_digest(token)[:12]} if token else {})


def test_a_role_not_allowed_is_refused_and_audited(tokens: FakeUnitOfWorkFactory,
                                                   clock: FixedClock) -> None:
    require_role(tokens, clock, OFFICER, {Role.OFFICER}, "query")
    assert tokens.data.audit == []
    with pytest.raises(DomainError) as caught:
        require_role(tokens, clock, OFFICER, {Role.GUARDIAN, Role.MANAGER}, "alert.list")
    assert (caught.value.kind, caught.value.code) == (ErrorKind.FORBIDDEN, "role_not_allowed")
    assert caught.value.detail == "alert.list is for guardian or manager roles only"
    [record] = tokens.data.audit
    assert (record.entry.action, record.entry.actor_id, record.entry.reason) == (
        "alert.list", OFFICER.id, "role_not_allowed")


def auth_service(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> AuthService:
    # The verifier is not reached by these checks: they look at what it already found.
    return AuthService(uows, clock, verifier=None)  # type: ignore[arg-type]


def test_a_request_signed_by_another_organisation_is_refused_and_audited(
        tokens: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    auth = auth_service(tokens, clock)
    own = SignedBy(CONSUMER, "kid-1", "n1", NOW)
    auth.check_signer(SignaturePolicy(), own, OFFICER)
    auth.check_signer(SignaturePolicy(), None, OFFICER)  # nobody requires a signature
    assert tokens.data.audit == []
    with pytest.raises(DomainError) as caught:
        auth.check_signer(SignaturePolicy(), SignedBy("GOV/HMRC", "kid-2", "n2", NOW), OFFICER)
    assert caught.value.code == "signature_org_mismatch"
    [record] = tokens.data.audit
    assert (record.entry.action, record.entry.actor_id, record.entry.reason) == (
        "auth.signature", OFFICER.id, "signature_org_mismatch")
    assert record.entry.detail == {"signed_by": "GOV/HMRC", "kid": "kid-2"}


def test_an_unsigned_request_is_refused_where_signatures_are_required(
        tokens: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    auth = auth_service(tokens, clock)
    with pytest.raises(DomainError) as caught:
        auth.check_signer(SignaturePolicy(orgs=frozenset({CONSUMER})), None, OFFICER)
    assert (caught.value.kind, caught.value.code) == (ErrorKind.UNAUTHENTICATED,
                                                      "signature_required")
    with pytest.raises(DomainError):
        auth.require_signature({"path": "/v1/queries"})
    assert [(r.entry.reason, r.entry.detail) for r in tokens.data.audit] == [
        ("signature_required", {}), ("signature_required", {"path": "/v1/queries"})]
