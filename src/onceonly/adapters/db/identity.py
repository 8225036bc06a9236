"""Identity across organisations in the exchange database: which schemes an organisation
names people by, pairwise pseudonyms handed out, link candidates from matching, and the
person index (ports.PersonIndex): a person's key and identifiers by scheme."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from onceonly.adapters.db import tables as t
from onceonly.adapters.db.consents import LIVE_CONSENT
from onceonly.adapters.db.driver import DriverStatement
from onceonly.adapters.db.tables import UTCDateTime
from onceonly.domain.errors import conflict
from onceonly.domain.identity import PAIRWISE, LinkCandidate, LinkStatus
from onceonly.services.ports.identity import ConsentQuestion, Naming, ResolvedSubject

# Naming a person is on the path of every query: run on the driver's cursor (driver.py), as
# SQLAlchemy's statement execution costs four times the lookup itself (BENCHMARKS.md,
# identity). One round trip when the person is known; a second, for the rights alone, only
# when nobody is found. Under a consent basis the person's live consents come in the same
# statement, sparing a round trip (BENCHMARKS.md, consent).
_MAY = "EXISTS (SELECT 1 FROM organisation_schemes WHERE org_id = :org AND scheme = {scheme})"
_PAIRWISE = _MAY.format(scheme=f"'{PAIRWISE}'")
# The fields of each live consent of the person for the purpose, to this consumer or any.
_CONSENTED = (", (SELECT {aggregate} FROM consents c WHERE c.person_key = {person} "
              f"AND {LIVE_CONSENT})")
_AGGREGATE = {"sqlite": "json_group_array(json(c.fields))", "postgresql": "json_agg(c.fields)"}
_BY = {  # by pseudonym? -> the statement, and the column naming the person in it
    False: ("SELECT l.person_key, t.value, " + _MAY.format(scheme="l.scheme") + ", "
            + _PAIRWISE + "{consented} FROM person_links l LEFT OUTER JOIN person_links t "
            "ON t.person_key = l.person_key AND t.scheme = :target "
            "WHERE l.scheme = :scheme AND l.value = :value LIMIT 1", "l.person_key"),
    True: ("SELECT w.person_key, t.value, w.consumer_id = :org, " + _PAIRWISE
           + "{consented} FROM pairwise_pseudonyms w LEFT OUTER JOIN person_links t "
           "ON t.person_key = w.person_key AND t.scheme = :target WHERE w.pseudonym = :value",
           "w.person_key"),
}
# (by pseudonym?, the dialect whose aggregate reads the consents, or None without them)
_NAMING = {
    (pseudonym, dialect): DriverStatement(
        text(sql.format(consented=_CONSENTED.format(aggregate=_AGGREGATE[dialect],
                                                    person=person)))
        .bindparams(bindparam("at", type_=UTCDateTime)) if dialect
        else text(sql.format(consented="")))
    for pseudonym, (sql, person) in _BY.items() for dialect in (None, *_AGGREGATE)
}
_RIGHTS = DriverStatement(text("SELECT " + _MAY.format(scheme=":scheme") + ", " + _PAIRWISE))
_DIALECT_INSERT = {"postgresql": pg_insert, "sqlite": sqlite_insert}
_REMEMBER = {
    name: dialect_insert(t.pairwise_pseudonyms).values(
        pseudonym=bindparam("pseudonym"), consumer_id=bindparam("consumer"),
        person_key=bindparam("person_key")).on_conflict_do_nothing()
    for name, dialect_insert in _DIALECT_INSERT.items()
}
_C = t.link_candidates.c


def _consented(found: Any) -> tuple[tuple[str, ...], ...]:
    """The consents' fields as the driver returns the aggregate: JSON text from SQLite, a
    decoded list from psycopg, NULL where PostgreSQL aggregated nothing."""
    listed = json.loads(found) if isinstance(found, str) else found or []
    return tuple(tuple(fields) for fields in listed)


def _candidate(row: Any) -> LinkCandidate:
    return LinkCandidate(
        id=row.id, org_id=row.org_id, scheme=row.scheme, value=row.value,
        person_key=row.person_key, match_weight=row.match_weight,
        identifier_agreement=row.identifier_agreement, comparisons=row.comparisons,
        status=LinkStatus(row.status), created_at=row.created_at, decided_by=row.decided_by,
        decided_at=row.decided_at, reason=row.reason)


class SqlIdentities:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def name(self, org_id: str, scheme: str, value: str, target_scheme: str,
             consent: ConsentQuestion | None = None) -> Naming:
        pseudonym = scheme == PAIRWISE
        params = {"org": org_id, "target": target_scheme, "scheme": scheme, "value": value}
        if consent is not None:
            params |= {"purpose": consent.purpose, "at": consent.at,
                       "consumer": consent.consumer_id}
        found = _NAMING[pseudonym, self.conn.dialect.name if consent else None].run(
            self.conn, params)
        if found:
            person_key, provider_value, allowed, pairwise, *consented = found[0]
            # A pseudonym is usable only by the consumer it was handed to, and only while
            # that consumer is still named people by pseudonyms.
            allowed = bool(allowed) and (not pseudonym or bool(pairwise))
            return Naming(allowed, bool(pairwise), ResolvedSubject(
                person_key, provider_value,
                consented=_consented(consented[0]) if consented else ()))
        [(allowed, pairwise)] = _RIGHTS.run(self.conn, {"org": org_id, "scheme": scheme})
        return Naming(bool(allowed), bool(pairwise), None)

    def remember_pseudonym(self, consumer_id: str, pseudonym: str, person_key: str) -> None:
        self.conn.execute(_REMEMBER[self.conn.dialect.name], {
            "pseudonym": pseudonym, "consumer": consumer_id, "person_key": person_key})

    def add_candidates(self, candidates: Sequence[LinkCandidate]) -> list[LinkCandidate]:
        if not candidates:
            return []
        known = set(self.conn.execute(
            select(_C.scheme, _C.value, _C.person_key)
            .where(_C.org_id == candidates[0].org_id)))
        fresh = [c for c in candidates if (c.scheme, c.value, c.person_key) not in known]
        stored = []
        for c in fresh:
            new_id = self.conn.execute(insert(t.link_candidates).values(
                org_id=c.org_id, scheme=c.scheme, value=c.value, person_key=c.person_key,
                match_weight=c.match_weight, identifier_agreement=c.identifier_agreement,
                comparisons=dict(c.comparisons), status=c.status.value,
                created_at=c.created_at, decided_by=c.decided_by, decided_at=c.decided_at,
                reason=c.reason).returning(_C.id)).scalar_one()
            stored.append(replace(c, id=new_id))
        return stored

    def candidate(self, candidate_id: int) -> LinkCandidate | None:
        row = self.conn.execute(select(t.link_candidates).where(_C.id == candidate_id)).first()
        return _candidate(row) if row else None

    def candidates(self, org_id: str, status: str | None, limit: int) -> list[LinkCandidate]:
        query = (select(t.link_candidates).where(_C.org_id == org_id)
                 .order_by(_C.match_weight.desc(), _C.id).limit(limit))
        if status is not None:
            query = query.where(_C.status == status)
        return [_candidate(row) for row in self.conn.execute(query)]

    def decided(self, candidate: LinkCandidate) -> None:
        # Two guardians deciding at once: the first wins, the second is told.
        result = self.conn.execute(
            update(t.link_candidates)
            .where(_C.id == candidate.id, _C.status == LinkStatus.PENDING.value)
            .values(status=candidate.status.value, decided_by=candidate.decided_by,
                    decided_at=candidate.decided_at, reason=candidate.reason))
        if result.rowcount != 1:
            raise conflict("already_decided", f"link candidate {candidate.id} was decided "
                                              "already")

    def link(self, scheme: str, value: str, person_key: str) -> bool:
        statement = _DIALECT_INSERT[self.conn.dialect.name](t.person_links).values(
            scheme=scheme, value=value, person_key=person_key).on_conflict_do_nothing(
        ).returning(t.person_links.c.person_key)
        return self.conn.execute(statement).first() is not None


# Built once with bound parameters (see agreements.py).
_SCHEME = select(t.identifier_schemes.c.code).where(
    t.identifier_schemes.c.code == bindparam("scheme"))


class SqlPersonIndex:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def known_scheme(self, scheme: str) -> bool:
        return self.conn.execute(_SCHEME, {"scheme": scheme}).first() is not None

    def person_key(self, scheme: str, value: str) -> str | None:
        return self.conn.execute(select(t.person_links.c.person_key).where(
            t.person_links.c.scheme == scheme, t.person_links.c.value == value)).scalar()

    def identifiers(self, person_key: str, schemes: Sequence[str]) -> dict[str, str]:
        """The person's identifiers in the given schemes (one each, the first by value)."""
        rows = self.conn.execute(
            select(t.person_links.c.scheme, t.person_links.c.value)
            .where(t.person_links.c.person_key == person_key,
                   t.person_links.c.scheme.in_(list(schemes)))
            .order_by(t.person_links.c.scheme, t.person_links.c.value.desc()))
        return {row.scheme: row.value for row in rows}
