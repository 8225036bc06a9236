"""Identity across organisations in the exchange database: which schemes an organisation
names people by, pairwise pseudonyms handed out, and link candidates from matching."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from onceonly.adapters.db import tables as t
from onceonly.domain.errors import conflict
from onceonly.domain.identity import PAIRWISE, LinkCandidate, LinkStatus
from onceonly.services.ports import Naming

_REGISTERED = t.organisation_schemes.c


def _registered(scheme: Any) -> Any:
    return exists().where(_REGISTERED.org_id == bindparam("org"), _REGISTERED.scheme == scheme)


_ALLOWED = _registered(bindparam("scheme")).label("allowed")
_PAIRWISE = _registered(literal(PAIRWISE)).label("pairwise")
_LINK = aliased(t.person_links)
_TARGET = aliased(t.person_links)
_PW = t.pairwise_pseudonyms.c
# Built once with bound parameters (see repository.py): one round trip when the person is
# known, whatever the scheme; a second, for the rights alone, only when nobody is found.
_NAME_BY_LINK = (
    select(_LINK.c.person_key, _TARGET.c.value, _ALLOWED, _PAIRWISE)
    .select_from(_LINK.outerjoin(_TARGET, and_(_TARGET.c.person_key == _LINK.c.person_key,
                                               _TARGET.c.scheme == bindparam("target"))))
    .where(_LINK.c.scheme == bindparam("scheme"), _LINK.c.value == bindparam("value"))
    .limit(1)
)
_NAME_BY_PSEUDONYM = (
    select(t.pairwise_pseudonyms.c.person_key, _TARGET.c.value,
           (_PW.consumer_id == bindparam("org")).label("allowed"), _PAIRWISE)
    .select_from(t.pairwise_pseudonyms.outerjoin(
        _TARGET, and_(_TARGET.c.person_key == _PW.person_key,
                      _TARGET.c.scheme == bindparam("target"))))
    .where(_PW.pseudonym == bindparam("value"))
)
_RIGHTS = select(_ALLOWED, _PAIRWISE)
_DIALECT_INSERT = {"postgresql": pg_insert, "sqlite": sqlite_insert}
_REMEMBER = {
    name: dialect_insert(t.pairwise_pseudonyms).values(
        pseudonym=bindparam("pseudonym"), consumer_id=bindparam("consumer"),
        person_key=bindparam("person_key")).on_conflict_do_nothing()
    for name, dialect_insert in _DIALECT_INSERT.items()
}
_C = t.link_candidates.c


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

    def name(self, org_id: str, scheme: str, value: str, target_scheme: str) -> Naming:
        params = {"org": org_id, "scheme": scheme, "value": value, "target": target_scheme}
        statement = _NAME_BY_PSEUDONYM if scheme == PAIRWISE else _NAME_BY_LINK
        row = self.conn.execute(statement, params).first()
        if row is not None:
            # A pseudonym is usable only by the consumer it was handed to, and only while
            # that consumer is still named people by pseudonyms.
            allowed = bool(row.allowed) and (scheme != PAIRWISE or bool(row.pairwise))
            return Naming(allowed, bool(row.pairwise), row.person_key, row.value)
        allowed, pairwise = self.conn.execute(_RIGHTS, params).one()
        return Naming(bool(allowed), bool(pairwise), None, None)

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
