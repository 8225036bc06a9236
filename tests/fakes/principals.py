"""Principals and their API tokens, by digest."""

from __future__ import annotations

from datetime import datetime

from onceonly.domain.organisations import MemberStatus, Principal, TokenHolder
from tests.fakes.data import FakeData, Token


class FakePrincipals:
    def __init__(self, data: FakeData) -> None:
        self.data = data

    def holder(self, digest: str) -> TokenHolder | None:
        token = self.data.tokens.get(digest)
        if token is None:
            return None
        return TokenHolder(self.data.principals[token.principal_id], token.expires_at,
                           token.revoked_at is not None, False, MemberStatus.ACTIVE)

    def get(self, principal_id: str) -> Principal | None:
        return self.data.principals.get(principal_id)

    def add(self, principal: Principal, created_by: str | None = None) -> None:
        self.data.principals[principal.id] = principal

    def add_token(self, digest: str, principal_id: str, issued_at: datetime,
                  expires_at: datetime) -> None:
        self.data.tokens[digest] = Token(principal_id, expires_at)
