"""The person index and naming a person: who may name people by which scheme, and the
pairwise pseudonyms handed to consumers (the rules of adapters/db/identity.py); link
candidates from record linkage; the records matching compares, and a matcher that
answers as told."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from onceonly.domain.errors import conflict
from onceonly.domain.identity import PAIRWISE, LinkCandidate, LinkStatus, Match, MatchRecord
from onceonly.services.ports.identity import ConsentQuestion, Naming, ResolvedSubject
from tests.fakes.data import FakeData


class FakePersonIndex:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def known_scheme(self, scheme: str) -> bool:
        return scheme in self.data.schemes

    def person_key(self, scheme: str, value: str) -> str | None:
        return self.data.links.get((scheme, value))

    def identifiers(self, person_key: str, schemes: Sequence[str]) -> dict[str, str]:
        return {s: v for s in schemes if (v := self._value(person_key, s)) is not None}

    def _value(self, person_key: str, scheme: str) -> str | None:
        values = [v for (s, v), p in self.data.links.items() if s == scheme and p == person_key]
        return max(values) if values else None


class FakeIdentities:
    def __init__(self, data: FakeData) -> None:
        self.data = data
        self.people = FakePersonIndex(data)

    def name(self, org_id: str, scheme: str, value: str, target_scheme: str,
             consent: ConsentQuestion | None = None) -> Naming:
        pairwise = (org_id, PAIRWISE) in self.data.org_schemes
        if scheme == PAIRWISE:
            consumer_id, person_key = self.data.pseudonyms.get(value, (None, None))
            allowed = consumer_id == org_id and pairwise if person_key else pairwise
        else:
            person_key = self.data.links.get((scheme, value))
            allowed = (org_id, scheme) in self.data.org_schemes
        if person_key is None:
            return Naming(allowed, pairwise, None)
        return Naming(allowed, pairwise, ResolvedSubject(
            person_key, self.people._value(person_key, target_scheme),
            consented=self._consented(person_key, consent) if consent else ()))

    def _consented(self, person_key: str, question: ConsentQuestion
                   ) -> tuple[tuple[str, ...], ...]:
        return tuple(c.fields for c, _, _ in self.data.consents.values()
                     if c.person_key == person_key and c.purpose == question.purpose
                     and c.consumer_id in (None, question.consumer_id)
                     and c.live_at(question.at))

    def remember_pseudonym(self, consumer_id: str, pseudonym: str, person_key: str) -> None:
        self.data.pseudonyms.setdefault(pseudonym, (consumer_id, person_key))

    def add_candidates(self, candidates: Sequence[LinkCandidate]) -> list[LinkCandidate]:
        known = {(c.org_id, c.scheme, c.value, c.person_key)
                 for c in self.data.candidates.values()}
        stored = []
        for c in candidates:
            if (c.org_id, c.scheme, c.value, c.person_key) in known:
                continue  # proposed before: left as it is
            kept = replace(c, id=self.data.next_id("candidates"))
            self.data.candidates[kept.id] = kept  # type: ignore[index]
            stored.append(kept)
        return stored

    def candidate(self, candidate_id: int) -> LinkCandidate | None:
        return self.data.candidates.get(candidate_id)

    def candidates(self, org_id: str, status: str | None, limit: int) -> list[LinkCandidate]:
        mine = [c for c in self.data.candidates.values() if c.org_id == org_id
                and (status is None or c.status.value == status)]
        return sorted(mine, key=lambda c: (-c.match_weight, c.id or 0))[:limit]

    def decided(self, candidate: LinkCandidate) -> None:
        assert candidate.id is not None
        if self.data.candidates[candidate.id].status is not LinkStatus.PENDING:
            raise conflict("already_decided", f"link candidate {candidate.id} was decided "
                                              "already")
        self.data.candidates[candidate.id] = candidate

    def link(self, scheme: str, value: str, person_key: str) -> bool:
        if (scheme, value) in self.data.links:
            return False
        self.data.links[scheme, value] = person_key
        return True


class FakeMatchSources:
    def __init__(self, scheme: str, records: list[MatchRecord],
                 reference: list[MatchRecord]) -> None:
        self.scheme, self.records, self.references = scheme, records, reference

    def unlinked(self, org_id: str) -> tuple[str, list[MatchRecord]]:
        return self.scheme, self.records

    def reference(self, scheme: str) -> list[MatchRecord]:
        return self.references


class FakeMatcher:
    """The scored pairs the test gives: matching itself is tested against Splink."""

    def __init__(self, matches: list[Match]) -> None:
        self.matches = matches

    def match(self, records: Sequence[MatchRecord],
              reference: Sequence[MatchRecord]) -> list[Match]:
        return list(self.matches)
