"""The HTTP status of each kind of refusal, in one place: the API's problem answers and the
portals' refused pages both answer with it (the portals import nothing of the API)."""

from __future__ import annotations

from onceonly.domain.errors import DomainError, ErrorKind

STATUS = {
    ErrorKind.INVALID: 422,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.LIMITED: 429,
    ErrorKind.GONE: 410,
    ErrorKind.UPSTREAM: 502,
    ErrorKind.UPSTREAM_TIMEOUT: 504,
}


def http_status(error: DomainError) -> int:
    """The status a refusal for `error` answers with."""
    return STATUS[error.kind]
