"""Identity across organisations: each organisation names a person by its own identifier,
or, having none, by a pairwise pseudonym the exchange gave it; links missing from the person
index are found by matching and applied only as the rules (domain/identity.py) allow."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.canonical import sha256_hex
from onceonly.crypto.pseudonyms import consumer_key, pseudonym
from onceonly.domain.errors import conflict, invalid, not_found
from onceonly.domain.identity import (
    COMPARED_FIELDS,
    PAIRWISE,
    LinkCandidate,
    LinkStatus,
    Match,
    MatchRecord,
    best_per_record,
    decide,
    triage,
)
from onceonly.domain.organisations import Principal, Role
from onceonly.domain.policy import Deny, Reason
from onceonly.services.auth import require_role
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.identity import (
    ConsentQuestion,
    IdentityUnitOfWork,
    Matcher,
    MatchSources,
    NamingUnitOfWork,
    Pseudonyms,
    ResolvedSubject,
)
from onceonly.services.ports.keys import Secrets
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refusing

PAIRWISE_SECRET = "pairwise-pseudonym"  # made by migration 0009
MAX_LISTED = 500
# No dataset names people by it: the reference is everyone whose attributes the index knows.
ONE_LOGIN_SCHEME = "one-login"


class PairwisePseudonyms:
    """Pseudonyms under each consumer's own key, derived from the exchange's secret."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        self._keys: dict[str, bytes] = {}  # derived keys never change: safe in every process

    def of(self, consumer_id: str, person_key: str) -> str:
        key = self._keys.get(consumer_id)
        if key is None:
            key = self._keys[consumer_id] = consumer_key(self.secrets.get(PAIRWISE_SECRET),
                                                         consumer_id)
        return pseudonym(key, person_key)


def name_subject(uow: NamingUnitOfWork, pseudonyms: Pseudonyms | None, org_id: str, scheme: str,
                 value: str, target_scheme: str, consent: ConsentQuestion | None = None
                 ) -> ResolvedSubject | Deny | None:
    """The person an organisation names, in the target scheme; a refusal if the identifier
    is not one the organisation may use (another organisation's, or another consumer's
    pseudonym); None if nobody is known by it. With `consent`, the person's live consents
    come in the same read."""
    naming = uow.identities.name(org_id, scheme, value, target_scheme, consent)
    if not naming.allowed:
        # An unknown scheme is nobody's; only then is it worth asking which it was.
        if not uow.people.known_scheme(scheme):
            raise invalid("unknown_scheme", f"no identifier scheme {scheme!r}")
        if scheme == PAIRWISE:
            return Deny(Reason.SCHEME_NOT_YOURS,
                        "this pseudonym was not issued to your organisation")
        return Deny(Reason.SCHEME_NOT_YOURS,
                    f"your organisation does not name people by {scheme!r}: it is another "
                    "organisation's identifier")
    subject = naming.subject
    if subject is None or not naming.pairwise or pseudonyms is None:
        return subject
    named_as = value if scheme == PAIRWISE else pseudonyms.of(org_id, subject.person_key)
    return replace(subject, pseudonym=named_as)


def subject_named(subject: ResolvedSubject, scheme: str, value: str) -> dict[str, str]:
    """How a release names the person to the consumer: by its pseudonym, if it has one."""
    if subject.pseudonym:
        return {"scheme": PAIRWISE, "value": subject.pseudonym}
    return {"scheme": scheme, "value": value}


@dataclass(frozen=True, slots=True)
class MatchRun:
    org_id: str
    scheme: str
    records: int  # the organisation's records missing from the index
    reference: int  # people they were compared with
    applied: int
    pending: int
    already_proposed: int


def _entry(action: str, outcome: str, actor_id: str | None, org_id: str | None,
           candidate: LinkCandidate, reason: str | None = None) -> AuditEntry:
    """Which fields were compared and how (levels), the weight, and a hash of the
    identifier: never a name, a date or the identifier itself."""
    return AuditEntry(
        action, outcome, actor_id, org_id, reason=reason, provider_id=candidate.org_id,
        person_key=candidate.person_key, fields=COMPARED_FIELDS,
        values_hash=sha256_hex({"candidate": candidate.id, "scheme": candidate.scheme,
                                "value": candidate.value}),
        detail={"candidate": candidate.id, "scheme": candidate.scheme,
                "match_weight": candidate.match_weight,
                "identifier_agreement": candidate.identifier_agreement,
                "comparisons": dict(candidate.comparisons), "status": candidate.status.value})


class IdentityService:
    def __init__(self, uows: UnitOfWorkFactory[IdentityUnitOfWork], sources: MatchSources,
                 matcher: Matcher,
                 clock: Clock) -> None:
        self.uows = uows
        self.sources = sources
        self.matcher = matcher
        self.clock = clock

    def match(self, org_id: str, actor_id: str = "operator",
              progress: Callable[[str], None] | None = None) -> MatchRun:
        """Match the organisation's records missing from the index: deterministically on
        identifiers, probabilistically on name, date of birth and postcode. Links with an
        identifier agreement above ACCEPT_WEIGHT are applied; the rest wait for a guardian."""
        step = progress or (lambda _stage: None)
        with self.uows() as uow:
            if uow.catalogue.organisation(org_id) is None:
                raise not_found("organisation_unknown", f"no organisation {org_id}")
        scheme, records = self.sources.unlinked(org_id)
        step("records read")
        reference = self.sources.reference(scheme) if records else []
        step("reference read")
        matches = best_per_record(self.matcher.match(records, reference)) if reference else []
        step("matched")
        now = self.clock.now()
        candidates = [
            LinkCandidate(None, org_id, scheme, m.record_id, m.person_key,
                          round(m.match_weight, 3), m.identifier_agreement,
                          dict(m.comparisons), status, now)
            for m in matches if (status := triage(m)) is not None]
        with self.uows(write=True) as uow:
            stored = uow.identities.add_candidates(candidates)
            for candidate in stored:
                if candidate.status is LinkStatus.APPLIED:
                    if not uow.identities.link(candidate.scheme, candidate.value,
                                               candidate.person_key):
                        raise conflict("already_linked", f"a {scheme} identifier was linked "
                                                         "while matching ran; run it again")
                    uow.audit.record(_entry("identity.link", "applied", actor_id, None,
                                            candidate), now)
                else:
                    uow.audit.record(_entry("identity.propose", "pending", actor_id, None,
                                            candidate), now)
            uow.commit()
        step("stored")
        applied = sum(1 for c in stored if c.status is LinkStatus.APPLIED)
        return MatchRun(org_id, scheme, len(records), len(reference), applied,
                        len(stored) - applied, len(candidates) - len(stored))

    def match_person(self, full_name: str, born: date) -> list[Match]:
        """Who in the index a person of this name and date of birth may be (a citizen
        GOV.UK One Login proved), best first: the matcher, against everyone the index
        knows the attributes of."""
        reference = self.sources.reference(ONE_LOGIN_SCHEME)
        record = MatchRecord("citizen", full_name, born, None)
        found = self.matcher.match([record], reference) if reference else []
        return sorted(found, key=lambda m: -m.match_weight)

    def candidates(self, caller: Principal, status: str | None = "pending",
                   limit: int = MAX_LISTED) -> list[LinkCandidate]:
        """The caller's organisation's link candidates, highest weight first (guardians)."""
        require_role(self.uows, self.clock, caller, {Role.GUARDIAN}, "identity.candidates")
        with self.uows() as uow:
            return uow.identities.candidates(caller.org_id, status, limit)

    def confirm(self, guardian: Principal, candidate_id: int, reason: str) -> LinkCandidate:
        return self._decide(guardian, candidate_id, reason, confirm=True)

    def reject(self, guardian: Principal, candidate_id: int, reason: str) -> LinkCandidate:
        return self._decide(guardian, candidate_id, reason, confirm=False)

    def _decide(self, guardian: Principal, candidate_id: int, reason: str,
                confirm: bool) -> LinkCandidate:
        action = "identity.confirm" if confirm else "identity.reject"
        now = self.clock.now()
        with refusing(self.uows, self.clock, action, guardian,
                      detail={"candidate": candidate_id}) as refusal, \
                self.uows(write=True) as uow:
            candidate = uow.identities.candidate(candidate_id)
            refusal.note(provider_id=candidate.org_id if candidate else None)
            if candidate is None:
                raise not_found("link_candidate_unknown",
                                f"no link candidate {candidate_id}")
            decided = decide(candidate, guardian, confirm, reason, now)
            uow.identities.decided(decided)
            if confirm and not uow.identities.link(decided.scheme, decided.value,
                                                   decided.person_key):
                raise conflict("already_linked",
                               "this identifier is linked to a person already")
            uow.audit.record(_entry(action, "done", guardian.id, guardian.org_id,
                                    decided), now)
            uow.commit()
        return decided

    def enrol(self, admin: Principal, identifiers: Sequence[tuple[str, str]]) -> str:
        """A person new to the index, known by these identifiers (one a scheme, each of a
        scheme the exchange knows, none linked to anybody yet): how an exchange's operator
        loads its person index. The new person's key; audited without the values."""
        require_role(self.uows, self.clock, admin, {Role.ADMIN}, "identity.enrol")
        schemes = [scheme for scheme, _ in identifiers]
        now = self.clock.now()
        with refusing(self.uows, self.clock, "identity.enrol", admin,
                      detail={"schemes": schemes[:8]}), self.uows(write=True) as uow:
            if not identifiers or len(set(schemes)) != len(schemes):
                raise invalid("identifiers_required", "a person is enrolled with at least one "
                              "identifier, one a scheme")
            person_key = f"p-{secrets.token_hex(12)}"
            for scheme, value in identifiers:
                if not uow.people.known_scheme(scheme):
                    raise invalid("unknown_scheme", f"no identifier scheme {scheme!r}")
                if not value.strip() or not uow.identities.link(scheme, value, person_key):
                    raise conflict("already_linked", f"a {scheme} identifier is empty or "
                                   "linked to a person already; nothing was enrolled")
            uow.audit.record(AuditEntry("identity.enrol", "done", admin.id, admin.org_id,
                                        person_key=person_key,
                                        detail={"schemes": schemes}), now)
            uow.commit()
        return person_key
