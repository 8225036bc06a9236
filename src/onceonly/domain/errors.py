"""Errors the domain raises. Each carries a machine-readable code and a human detail;
entry points map the kind to a transport status (HTTP 4xx, CLI exit 2)."""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the request itself is malformed or breaks a rule
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # valid request, but the object's state forbids it
    LIMITED = "limited"  # a use limit is spent for now
    GONE = "gone"  # it existed, and is no longer to be had (a one-time download)
    UPSTREAM = "upstream"  # a provider's own system failed or answered wrongly
    UPSTREAM_TIMEOUT = "upstream_timeout"  # a provider's own system did not answer in time


class DomainError(Exception):
    """`org_id`: the organisation the detail names, if any, for a page to name it in its
    own words and language."""

    def __init__(self, kind: ErrorKind, code: str, detail: str, *,
                 org_id: str | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.kind = kind
        self.code = code
        self.detail = detail
        self.org_id = org_id


def invalid(code: str, detail: str, *, org_id: str | None = None) -> DomainError:
    return DomainError(ErrorKind.INVALID, code, detail, org_id=org_id)


def forbidden(code: str, detail: str) -> DomainError:
    return DomainError(ErrorKind.FORBIDDEN, code, detail)


def not_found(code: str, detail: str, *, org_id: str | None = None) -> DomainError:
    return DomainError(ErrorKind.NOT_FOUND, code, detail, org_id=org_id)


def conflict(code: str, detail: str) -> DomainError:
    return DomainError(ErrorKind.CONFLICT, code, detail)


def unauthenticated(code: str, detail: str) -> DomainError:
    return DomainError(ErrorKind.UNAUTHENTICATED, code, detail)


def gone(code: str, detail: str) -> DomainError:
    return DomainError(ErrorKind.GONE, code, detail)
