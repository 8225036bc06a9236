"""The organisations' registered public keys, and the kids of the hosted ones."""

from __future__ import annotations

from dataclasses import replace

from onceonly.domain.org_keys import OrgKey
from tests.fakes.data import FakeData


class FakeOrgKeys:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def get(self, kid: str) -> OrgKey | None:
        return self.data.org_keys.get(kid)

    def kid_taken(self, kid: str) -> bool:
        return kid in self.data.org_keys or kid in self.data.hosted_keys

    def add(self, key: OrgKey) -> None:
        assert key.kid not in self.data.org_keys
        self.data.org_keys[key.kid] = key

    def retire(self, key: OrgKey) -> bool:
        stored = self.data.org_keys.get(key.kid)
        if stored is None or stored.retired_at is not None:
            return False
        self.data.org_keys[key.kid] = replace(stored, retired_at=key.retired_at,
                                              not_after=key.not_after)
        return True

    def list_for(self, org_id: str) -> list[OrgKey]:
        return [k for k in self.data.org_keys.values() if k.org_id == org_id]

    def hosted_for(self, org_id: str) -> list[tuple[str, bool]]:
        return [(kid, True) for kid, org in self.data.hosted_keys.items() if org == org_id]
