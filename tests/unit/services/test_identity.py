"""Record linkage on fakes: strong matches on an agreeing identifier are linked at once,
weaker ones wait for the organisation's guardian, weak ones are dropped; a guardian's
decision is final; the audit log keeps hashes and levels, never the identifier."""

from __future__ import annotations

import pytest

from onceonly.domain.errors import DomainError, ErrorKind
from onceonly.domain.identity import LinkStatus, Match, MatchRecord
from onceonly.domain.organisations import Role
from onceonly.services.identity import IdentityService
from tests.fakes.clock import FixedClock
from tests.fakes.identity import FakeMatcher, FakeMatchSources
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import principal
from tests.unit.services.conftest import NINO, PERSON

DVLA = "GOV/DVLA"
GUARDIAN = principal(DVLA, Role.GUARDIAN)
MATCHES = [
    Match("D1", PERSON, 25.0, True, {"full_name": "exact"}),  # applied
    Match("D2", "person-2", 12.0, False, {"full_name": "close"}),  # for a guardian
    Match("D3", "person-3", 1.0, False),  # not a candidate
]


@pytest.fixture
def identity(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> IdentityService:
    return IdentityService(uows, FakeMatchSources("dvla_id", [], []), FakeMatcher(MATCHES),
                           clock)


def matched(uows: FakeUnitOfWorkFactory, clock: FixedClock) -> IdentityService:
    records = [MatchRecord(f"D{n}", "someone", None, None) for n in (1, 2, 3)]
    service = IdentityService(uows, FakeMatchSources("dvla_id", records, records),
                              FakeMatcher(MATCHES), clock)
    service.match(DVLA)
    return service


def refusal(call: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_matching_links_strong_matches_and_proposes_the_rest(
        uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    service = matched(uows, clock)
    assert uows.data.links["dvla_id", "D1"] == PERSON
    assert ("dvla_id", "D2") not in uows.data.links
    statuses = {c.value: c.status for c in uows.data.candidates.values()}
    assert statuses == {"D1": LinkStatus.APPLIED, "D2": LinkStatus.PENDING}
    assert [(r.entry.action, r.entry.outcome) for r in uows.data.audit] == [
        ("identity.link", "applied"), ("identity.propose", "pending")]
    assert "D1" not in str([r.entry.detail for r in uows.data.audit])
    assert [c.value for c in service.candidates(GUARDIAN)] == ["D2"]
    again = service.match(DVLA)  # proposed before: left as they are
    assert (again.applied, again.pending, again.already_proposed) == (0, 0, 2)


def test_matching_an_unknown_organisation_is_refused(identity: IdentityService) -> None:
    error = refusal(identity.match, "GOV/NOBODY")
    assert (error.kind, error.code) == (ErrorKind.NOT_FOUND, "organisation_unknown")


def test_a_guardian_confirms_a_candidate_of_their_organisation_once(
        uows: FakeUnitOfWorkFactory, clock: FixedClock) -> None:
    service = matched(uows, clock)
    [pending] = service.candidates(GUARDIAN)
    assert pending.id is not None
    other = refusal(service.confirm, principal("GOV/DWP", Role.GUARDIAN), pending.id, "yes")
    assert (other.kind, other.code) == (ErrorKind.FORBIDDEN, "not_your_identifier")
    confirmed = service.confirm(GUARDIAN, pending.id, "same person")
    assert confirmed.status is LinkStatus.CONFIRMED
    assert uows.data.links["dvla_id", "D2"] == "person-2"
    late = refusal(service.reject, GUARDIAN, pending.id, "no")
    assert (late.kind, late.code) == (ErrorKind.CONFLICT, "already_decided")
    assert [(r.entry.action, r.entry.outcome, r.entry.reason)
            for r in uows.data.audit[2:]] == [
        ("identity.confirm", "deny", "not_your_identifier"),
        ("identity.confirm", "done", None), ("identity.reject", "deny", "already_decided")]


def test_a_rejected_candidate_links_nothing(uows: FakeUnitOfWorkFactory,
                                           clock: FixedClock) -> None:
    service = matched(uows, clock)
    [pending] = service.candidates(GUARDIAN)
    assert pending.id is not None
    assert service.reject(GUARDIAN, pending.id, "a namesake").status is LinkStatus.REJECTED
    assert ("dvla_id", "D2") not in uows.data.links
    assert refusal(service.confirm, GUARDIAN, 99, "x").code == "link_candidate_unknown"


ADMIN = principal("GOV/EXCHANGE", Role.ADMIN)


def test_the_operator_enrols_a_person_known_by_their_identifiers(
        identity: IdentityService, uows: FakeUnitOfWorkFactory) -> None:
    person = identity.enrol(ADMIN, [("nino", "QQ123456C"), ("dvla_id", "D9")])
    assert uows.data.links["nino", "QQ123456C"] == person == uows.data.links["dvla_id", "D9"]
    [record] = uows.data.audit
    assert (record.entry.action, record.entry.person_key, record.entry.detail) == (
        "identity.enrol", person, {"schemes": ["nino", "dvla_id"]})
    assert "QQ123456C" not in str(record.entry)
    assert identity.enrol(ADMIN, [("nino", "QQ654321C")]) != person


@pytest.mark.parametrize(("who", "identifiers", "code"), [
    (GUARDIAN, [("nino", "QQ123456C")], "role_not_allowed"),
    (ADMIN, [], "identifiers_required"),
    (ADMIN, [("nino", "QQ123456C"), ("nino", "QQ654321C")], "identifiers_required"),
    (ADMIN, [("nosuch", "1")], "unknown_scheme"),
    (ADMIN, [("dvla_id", "D9"), ("nino", NINO)], "already_linked"),
    (ADMIN, [("nino", " ")], "already_linked"),
])
def test_an_enrolment_refused_links_nobody(identity: IdentityService,
                                           uows: FakeUnitOfWorkFactory, who: object,
                                           identifiers: list[tuple[str, str]],
                                           code: str) -> None:
    before = dict(uows.data.links)
    assert refusal(identity.enrol, who, identifiers).code == code
    assert uows.data.links == before
    assert [(r.entry.outcome, r.entry.reason) for r in uows.data.audit] == [("deny", code)]
