"""The keys an organisation holds itself: it registers their public halves (Ed25519 JWKs)
for signing its requests (RFC 9421) and for verifying what it receives, rotates them and
retires them with an overlap. The exchange never takes a private key: a JWK carrying one is
refused before anything is stored, and neither the refusal's audit entry nor any log names
its value. Keys the exchange holds on an organisation's behalf (hosted) stay as they are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.jwk import OKPKey

from onceonly.audit.entries import AuditEntry
from onceonly.domain.errors import conflict, not_found
from onceonly.domain.org_keys import (
    DEFAULT_OVERLAP,
    OrgKey,
    overlap_of,
    public_jwk,
    purposes_of,
    require_key_manager,
)
from onceonly.domain.organisations import Principal
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.org_keys import OrgKeysUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refusing


@dataclass(frozen=True)
class OrganisationKeys:
    org_id: str
    registered: tuple[OrgKey, ...]
    hosted: tuple[tuple[str, bool], ...]  # (kid, active) of the keys the exchange holds


def _entry(actor: Principal, action: str, key: OrgKey, **detail: Any) -> AuditEntry:
    return AuditEntry(action, "done", actor.id, actor.org_id, detail={
        "org": key.org_id, "kid": key.kid,
        "purposes": sorted(p.value for p in key.purposes), **detail})


class OrgKeyService:
    def __init__(self, uows: UnitOfWorkFactory[OrgKeysUnitOfWork], clock: Clock) -> None:
        self.uows = uows
        self.clock = clock

    def register(self, actor: Principal, org_id: str, jwk: Any, purposes: Iterable[str], *,
                 replaces: str | None = None,
                 overlap: timedelta = DEFAULT_OVERLAP) -> OrgKey:
        """Register an organisation's public key; with `replaces`, a rotation: the old key
        is retired in the same step, verifying for `overlap` more."""
        now = self.clock.now()
        action = "key.rotate" if replaces else "key.register"
        with refusing(self.uows, self.clock, action, actor,
                      detail={"org": org_id}) as refusal, self.uows(write=True) as uow:
            require_key_manager(actor, org_id)
            public = public_jwk(jwk)
            uses = purposes_of(purposes)
            if uow.catalogue.organisation(org_id) is None:
                raise not_found("organisation_unknown", f"no organisation {org_id}")
            kid = OKPKey.import_key(public).thumbprint()
            refusal.note(detail={"org": org_id, "kid": kid})
            if uow.org_keys.kid_taken(kid):
                raise conflict("already_exists", f"key {kid} is registered already")
            key = OrgKey(kid, org_id, public, uses, now, actor.id)
            detail: dict[str, Any] = {}
            if replaces is not None:
                old = self._retire(uow, org_id, replaces, now, overlap_of(overlap))
                detail = {"replaces": old.kid, "not_after": old.not_after.isoformat()
                          if old.not_after else None}
            uow.org_keys.add(key)
            uow.audit.record(_entry(actor, action, key, **detail), now)
            uow.commit()
        return key

    def retire(self, actor: Principal, org_id: str, kid: str,
               overlap: timedelta = DEFAULT_OVERLAP) -> OrgKey:
        """Retire a registered key: it verifies until now + `overlap`, then no longer."""
        now = self.clock.now()
        with refusing(self.uows, self.clock, "key.retire", actor,
                      detail={"org": org_id, "kid": kid[:64]}), \
                self.uows(write=True) as uow:
            require_key_manager(actor, org_id)
            key = self._retire(uow, org_id, kid, now, overlap_of(overlap))
            assert key.not_after is not None
            uow.audit.record(_entry(actor, "key.retire", key,
                                    not_after=key.not_after.isoformat()), now)
            uow.commit()
        return key

    def list(self, org_id: str) -> OrganisationKeys:
        """An organisation's keys: those it registered (retired ones too) and the hosted."""
        with self.uows() as uow:
            if uow.catalogue.organisation(org_id) is None:
                raise not_found("organisation_unknown", f"no organisation {org_id}")
            return OrganisationKeys(org_id, tuple(uow.org_keys.list_for(org_id)),
                                    tuple(uow.org_keys.hosted_for(org_id)))

    @staticmethod
    def _retire(uow: OrgKeysUnitOfWork, org_id: str, kid: str, now: Any,
                overlap: timedelta) -> OrgKey:
        key = uow.org_keys.get(kid)
        if key is None or key.org_id != org_id:
            raise not_found("key_unknown", f"{org_id} has registered no key {kid[:64]}")
        retired = key.retire(now, overlap)
        if not uow.org_keys.retire(retired):
            raise conflict("key_retired", f"key {kid} was retired already")
        return retired
