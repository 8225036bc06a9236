"""The governed query on fakes: what is released, what is refused (with its code and its
audit entry), the use limits, and what a refusal leaves unchanged."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

import pytest

from onceonly.crypto.canonical import canonical_json
from onceonly.crypto.signing import verify_detached
from onceonly.crypto.tokens import token_digest
from onceonly.domain.agreements import AgreementStatus, LegalBasis
from onceonly.domain.consent import Consent
from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.identity import PAIRWISE
from onceonly.domain.organisations import Role
from onceonly.services.ports.connectors import ProviderFailure
from onceonly.services.queries import QueryCommand, QueryRefused, QueryService, Release
from tests.fakes.clock import FixedClock
from tests.fakes.connectors import FakeConnectors
from tests.fakes.data import Token
from tests.fakes.keys import FakeSigner
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import INCOME, NOW, principal
from tests.unit.services.conftest import CONSUMER, NINO, PERSON, PROVIDER

OFFICER = principal(CONSUMER, Role.OFFICER)


def ask(**changes: object) -> QueryCommand:
    base = QueryCommand(1, "nino", NINO, ("income_band", "full_name"), "benefit-entitlement")
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def signer() -> FakeSigner:
    return FakeSigner()


@pytest.fixture
def queries(uows: FakeUnitOfWorkFactory, connectors: FakeConnectors,
            clock: FixedClock, signer: FakeSigner) -> QueryService:
    return QueryService(uows, connectors, clock, signer)


def refused(queries: QueryService, cmd: QueryCommand, officer: object = OFFICER) -> DomainError:
    with pytest.raises(QueryRefused) as caught:
        queries.query(officer, cmd)  # type: ignore[arg-type]
    return caught.value


def change(uows: FakeUnitOfWorkFactory, **changes: object) -> None:
    uows.data.agreements[1] = replace(uows.data.agreements[1], **changes)  # type: ignore[arg-type]


def test_a_release_holds_the_granted_fields_minimised_and_is_audited(
        queries: QueryService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    release = queries.query(OFFICER, ask())
    assert release.data == {"income_band": "12571-50270", "full_name": "Ann Example"}
    assert release.subject == {"scheme": "nino", "value": NINO}
    assert release.sources == {"income_band": "derived", "full_name": "verified"}
    # Only the source fields the grants need are read from the provider's store.
    assert connectors.fetched == [(INCOME.id, NINO, ("annual_income", "full_name"))]
    [record] = uows.data.audit
    assert record.index == release.audit_seq and record.at == NOW
    entry = record.entry
    assert (entry.action, entry.outcome, entry.actor_id, entry.agreement_id) == (
        "query.release", "permit", OFFICER.id, 1)
    assert entry.person_key == PERSON and entry.fields == ("income_band", "full_name")
    assert entry.values_hash and "Ann" not in str(entry)
    assert entry.detail == {"release_id": release.release_id}
    [(note, consumer)] = uows.data.activity.values()
    assert consumer == CONSUMER and not note.refused and note.person_key == PERSON
    assert uows.data.queries[1, NOW.date()] == 1


def test_a_release_leaves_signed_by_its_provider(queries: QueryService,
                                                 signer: FakeSigner) -> None:
    release = queries.query(OFFICER, ask())
    assert release.payload == canonical_json(release.body())
    kid = verify_detached(release.signature, release.payload, signer.jwks(), PROVIDER)
    assert kid == signer.key(PROVIDER).kid
    with pytest.raises(Exception, match="signature"):
        verify_detached(release.signature, release.payload + b" ", signer.jwks(), PROVIDER)


def test_an_unknown_agreement_is_not_found_and_audited_without_a_provider(
        queries: QueryService, uows: FakeUnitOfWorkFactory) -> None:
    error = refused(queries, ask(agreement_id=99))
    assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "agreement_unknown")
    [record] = uows.data.audit
    entry = record.entry
    assert (entry.action, entry.outcome, entry.reason) == (
        "query.decision", "deny", "agreement_unknown")
    assert entry.agreement_id is None and entry.provider_id is None
    assert entry.detail == {"requested_agreement": "99"}
    [(note, _)] = uows.data.activity.values()
    assert note.refused and note.agreement_id is None


@pytest.mark.parametrize(("cmd", "who", "kind", "code"), [
    (ask(fields=("annual_income",)), OFFICER, ErrorKind.FORBIDDEN, "field_not_in_agreement"),
    (ask(purpose="fraud"), OFFICER, ErrorKind.FORBIDDEN, "purpose_mismatch"),
    (ask(), principal(PROVIDER, Role.OFFICER), ErrorKind.FORBIDDEN, "not_agreement_party"),
    (ask(), principal(CONSUMER, Role.GUARDIAN), ErrorKind.FORBIDDEN, "role_not_allowed"),
    (ask(value="ZZ999999Z"), OFFICER, ErrorKind.NOT_FOUND, "subject_unknown"),
])
def test_a_policy_refusal_is_audited_and_reads_nothing(
        queries: QueryService, uows: FakeUnitOfWorkFactory, connectors: FakeConnectors,
        cmd: QueryCommand, who: object, kind: ErrorKind, code: str) -> None:
    error = refused(queries, cmd, who)
    assert (error.kind, error.code) == (kind, code)
    [record] = uows.data.audit
    assert (record.entry.outcome, record.entry.reason, record.entry.provider_id) == (
        "deny", code, PROVIDER)
    assert connectors.fetched == []
    assert uows.data.queries == {}


def test_a_suspended_agreement_is_refused(queries: QueryService,
                                          uows: FakeUnitOfWorkFactory) -> None:
    change(uows, status=AgreementStatus.SUSPENDED)
    assert refused(queries, ask()).code == "agreement_not_active"


def test_another_organisations_identifier_is_refused(queries: QueryService,
                                                      uows: FakeUnitOfWorkFactory) -> None:
    uows.data.links["dvla_id", "D1"] = PERSON
    error = refused(queries, ask(scheme="dvla_id", value="D1"))
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "scheme_not_yours")
    assert uows.data.audit[-1].entry.person_key is None  # the person is not named to them


def test_an_unknown_scheme_is_invalid(queries: QueryService) -> None:
    with pytest.raises(DomainError) as caught:
        queries.query(OFFICER, ask(scheme="shoe_size"))
    assert (caught.value.kind, caught.value.code) == (ErrorKind.INVALID, "unknown_scheme")


def test_a_person_the_provider_holds_no_record_of_is_unknown(
        queries: QueryService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    connectors.stores[INCOME.id].clear()
    error = refused(queries, ask())
    assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "record_unknown")
    assert [r.entry.outcome for r in uows.data.audit] == ["deny"]


def test_the_days_quota_refuses_the_query_past_it(queries: QueryService,
                                                  uows: FakeUnitOfWorkFactory,
                                                  clock: FixedClock) -> None:
    change(uows, max_queries_per_day=2)
    queries.query(OFFICER, ask())
    queries.query(OFFICER, ask())
    error = refused(queries, ask())
    assert (error.kind, error.code) == (ErrorKind.LIMITED, "quota_exceeded")
    assert uows.data.queries[1, NOW.date()] == 2
    clock.advance(timedelta(days=1))  # a new day, a new quota
    queries.query(OFFICER, ask())


def test_the_person_limit_refuses_a_new_person_and_counts_nothing(
        queries: QueryService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    change(uows, max_persons_per_day=1)
    uows.data.links["nino", "CD654321A"] = "person-2"
    connectors.add(INCOME.id, "CD654321A", full_name="Bob", annual_income=90000)
    queries.query(OFFICER, ask())
    queries.query(OFFICER, ask())  # the same person again: not a new one
    error = refused(queries, ask(value="CD654321A"))
    assert (error.kind, error.code) == (ErrorKind.LIMITED, "person_limit_reached")
    # The refused release was not committed: the counts are those of the two releases.
    assert uows.data.queries[1, NOW.date()] == 2
    assert uows.data.people_asked[1, NOW.date()] == {PERSON}
    actions = [(r.entry.action, r.entry.outcome) for r in uows.data.audit]
    assert actions == [("query.release", "permit")] * 2 + [("query.decision", "deny")]
    assert uows.data.audit[-1].entry.reason == "person_limit_reached"


def test_uses_in_all_are_spent_once(queries: QueryService,
                                    uows: FakeUnitOfWorkFactory) -> None:
    change(uows, max_uses=1)
    queries.query(OFFICER, ask())
    error = refused(queries, ask())
    assert (error.kind, error.code) == (ErrorKind.LIMITED, "uses_exhausted")
    assert uows.data.uses[1] == 1


def test_a_suspended_officer_is_refused_by_that_provider_only(
        queries: QueryService, uows: FakeUnitOfWorkFactory) -> None:
    uows.data.suspended[OFFICER.id, PROVIDER] = 7
    error = refused(queries, ask())
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "officer_suspended")
    assert uows.data.queries == {}
    uows.data.suspended = {(OFFICER.id, "GOV/DVLA"): 8}
    queries.query(OFFICER, ask())


def test_under_consent_a_query_needs_a_live_consent_covering_the_fields(
        queries: QueryService, uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    change(uows, legal_basis=LegalBasis.CONSENT)
    assert refused(queries, ask()).code == "consent_missing"
    consent = Consent("c1", PERSON, "benefit-entitlement", CONSUMER, ("full_name",),
                      NOW - timedelta(hours=1), NOW + timedelta(days=1))
    uows.data.consents["c1"] = (consent, "receipt", None)
    assert queries.query(OFFICER, ask(fields=("full_name",))).data == {
        "full_name": "Ann Example"}
    assert refused(queries, ask()).code == "consent_missing"  # income_band not consented
    uows.data.consents["c1"] = (replace(consent, withdrawn_at=NOW), "receipt", "withdrawn")
    assert refused(queries, ask(fields=("full_name",))).code == "consent_missing"


def test_an_access_under_a_hidden_agreement_is_hidden_from_the_citizen_for_its_days(
        queries: QueryService, uows: FakeUnitOfWorkFactory) -> None:
    change(uows, hidden_days=30)
    queries.query(OFFICER, ask())
    assert uows.data.audit[0].entry.hidden_until == NOW + timedelta(days=30)


def test_a_consumer_named_by_pseudonyms_gets_one_and_may_ask_by_it(
        uows: FakeUnitOfWorkFactory, connectors: FakeConnectors, clock: FixedClock) -> None:
    class Pseudonyms:
        def of(self, consumer_id: str, person_key: str) -> str:
            return f"pw-{consumer_id}-{person_key}"

    queries = QueryService(uows, connectors, clock, FakeSigner(), pseudonyms=Pseudonyms())
    uows.data.org_schemes.add((CONSUMER, PAIRWISE))
    release = queries.query(OFFICER, ask())
    pseudonym = f"pw-{CONSUMER}-{PERSON}"
    assert release.subject == {"scheme": PAIRWISE, "value": pseudonym}
    assert uows.data.pseudonyms[pseudonym] == (CONSUMER, PERSON)
    again = queries.query(OFFICER, ask(scheme=PAIRWISE, value=pseudonym))
    assert again.data == release.data
    other = principal("GOV/DVLA", Role.OFFICER)
    assert refused(queries, ask(scheme=PAIRWISE, value=pseudonym), other).code == (
        "scheme_not_yours")


@pytest.mark.parametrize(("token", "state", "code"), [
    (None, None, "token_missing"),
    ("unknown", None, "token_invalid"),
    ("old", Token(OFFICER.id, NOW - timedelta(seconds=1)), "token_expired"),
    ("gone", Token(OFFICER.id, NOW + timedelta(days=1), NOW), "token_revoked"),
])
def test_a_query_with_a_bad_token_is_refused_and_audited(
        queries: QueryService, uows: FakeUnitOfWorkFactory, token: str | None,
        state: Token | None, code: str) -> None:
    uows.data.principals[OFFICER.id] = OFFICER
    if token and state:
        uows.data.tokens[token_digest(token)] = state
    with pytest.raises(DomainError) as caught:
        queries.query_with_token(token, ask())
    assert (caught.value.kind, caught.value.code) == (ErrorKind.UNAUTHENTICATED, code)
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.outcome, record.entry.reason) == (
        "auth", "deny", code)


def test_a_query_with_a_live_token_is_released(queries: QueryService,
                                               uows: FakeUnitOfWorkFactory) -> None:
    uows.data.principals[OFFICER.id] = OFFICER
    uows.data.tokens[token_digest("live")] = Token(OFFICER.id, NOW + timedelta(hours=1))
    assert queries.query_with_token("live", ask()).data["full_name"] == "Ann Example"


# --- the provider's own system failing, and reads awaited on the event loop -----------------


@pytest.mark.parametrize(("reason", "kind"), [
    ("provider_unavailable", ErrorKind.UPSTREAM),
    ("provider_response_invalid", ErrorKind.UPSTREAM),
    ("provider_timeout", ErrorKind.UPSTREAM_TIMEOUT),
])
def test_a_failing_provider_is_a_refusal_audited_with_its_reason(
        queries: QueryService, uows: FakeUnitOfWorkFactory, connectors: FakeConnectors,
        reason: str, kind: ErrorKind) -> None:
    connectors.failure = ProviderFailure(reason, "HMRC's API failed", 7)
    error = refused(queries, ask())
    assert (error.kind, error.code, error.detail) == (kind, reason, "HMRC's API failed")
    assert getattr(error, "retry_after", None) == 7
    assert [(r.entry.outcome, r.entry.reason) for r in uows.data.audit] == [("deny", reason)]
    assert not any(uows.data.queries.values())  # nothing released, nothing counted


def run_on_loop(queries: QueryService, runs: list[str], cmd: QueryCommand) -> Release:
    """The API's way in (query_awaiting) with its blocking steps run on the loop itself."""
    uows = cast(FakeUnitOfWorkFactory, queries.uows)
    uows.data.principals[OFFICER.id] = OFFICER
    uows.data.tokens[token_digest("live")] = Token(OFFICER.id, NOW + timedelta(hours=1))

    async def run(work: Callable[[], Any]) -> Any:
        runs.append("run")
        return work()

    return asyncio.run(queries.query_awaiting("live", cmd, run))


def test_an_asynchronous_read_is_awaited_between_two_blocking_steps(
        queries: QueryService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    connectors.asynchronous = True
    runs: list[str] = []
    release = run_on_loop(queries, runs, ask(fields=("income_band",)))
    assert release.data == {"income_band": "12571-50270"}
    assert runs == ["run", "run"]  # the decision, then the release
    assert [f[0] for f in connectors.fetched] == ["async"]
    assert [r.entry.outcome for r in uows.data.audit] == ["permit"]


def test_a_synchronous_read_goes_in_one_blocking_step(
        queries: QueryService, connectors: FakeConnectors) -> None:
    runs: list[str] = []
    release = run_on_loop(queries, runs, ask(fields=("income_band",)))
    assert release.data == {"income_band": "12571-50270"}
    assert runs == ["run"]
    assert [f[0] for f in connectors.fetched] == [INCOME.id]


def test_an_asynchronous_read_that_fails_is_refused_and_audited(
        queries: QueryService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    connectors.asynchronous = True
    connectors.failure = ProviderFailure("provider_timeout", "no answer in 5 s", 5)
    with pytest.raises(QueryRefused) as caught:
        run_on_loop(queries, [], ask(fields=("income_band",)))
    assert (caught.value.code, caught.value.retry_after) == ("provider_timeout", 5)
    assert [(r.entry.outcome, r.entry.reason) for r in uows.data.audit] == [
        ("deny", "provider_timeout")]
    connectors.failure = None
    connectors.stores[INCOME.id].clear()
    with pytest.raises(QueryRefused) as unknown:
        run_on_loop(queries, [], ask(fields=("income_band",)))
    assert (unknown.value.kind, unknown.value.code) == (ErrorKind.NOT_FOUND, "record_unknown")


def test_a_service_accounts_query_is_audited_as_its_system(
        queries: QueryService, uows: FakeUnitOfWorkFactory) -> None:
    account = replace(OFFICER, system_id=f"{CONSUMER}/benefits")
    release = queries.query(account, ask())
    [record] = uows.data.audit
    assert record.entry.detail == {"release_id": release.release_id,
                                   "system": f"{CONSUMER}/benefits"}


def test_a_service_account_acting_as_another_organisations_system_is_refused(
        queries: QueryService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    account = replace(OFFICER, system_id=f"{PROVIDER}/income")
    error = refused(queries, ask(), account)
    assert (error.kind, error.code) == (ErrorKind.FORBIDDEN, "system_not_yours")
    [record] = uows.data.audit
    assert (record.entry.outcome, record.entry.reason, record.entry.detail) == (
        "deny", "system_not_yours", {"requested_agreement": "1",
                                     "system": f"{PROVIDER}/income"})
    assert connectors.fetched == [] and uows.data.queries == {}


@pytest.mark.parametrize("cmd", [ask(), ask(purpose="fraud-detection"), ask(agreement_id=999),
                                 ask(value="ZZ999999Z")],
                         ids=["released", "refused", "no agreement", "no person"])
def test_a_query_is_one_unit_of_work_its_refusal_included(
        queries: QueryService, uows: FakeUnitOfWorkFactory, cmd: QueryCommand) -> None:
    uows.opened.clear()
    with contextlib.suppress(QueryRefused):
        queries.query(OFFICER, cmd)

    [unit] = uows.opened
    assert unit.committed and len(uows.data.audit) == 1


def test_a_refused_token_is_audited_in_the_querys_one_unit_of_work(
        queries: QueryService, uows: FakeUnitOfWorkFactory) -> None:
    uows.opened.clear()
    with pytest.raises(DomainError) as caught:
        queries.query_with_token("not-a-token", ask())

    assert caught.value.code == "token_invalid"
    [unit] = uows.opened
    assert unit.committed and uows.data.audit[0].entry.reason == "token_invalid"
