"""Each kind of domain error, as the entry points map it to a transport status."""

from __future__ import annotations

import pytest

from onceonly.domain import errors
from onceonly.domain.errors import DomainError, ErrorKind


@pytest.mark.parametrize(("make", "kind"), [
    (errors.invalid, ErrorKind.INVALID), (errors.forbidden, ErrorKind.FORBIDDEN),
    (errors.not_found, ErrorKind.NOT_FOUND), (errors.conflict, ErrorKind.CONFLICT),
    (errors.unauthenticated, ErrorKind.UNAUTHENTICATED), (errors.gone, ErrorKind.GONE),
])
def test_each_error_carries_its_kind_code_and_detail(make, kind):
    error = make("some_code", "what went wrong")
    assert isinstance(error, DomainError)
    assert (error.kind, error.code, error.detail) == (kind, "some_code", "what went wrong")
    assert str(error) == "some_code: what went wrong"


@pytest.mark.parametrize("make", [errors.invalid, errors.not_found])
def test_an_error_may_name_the_organisation_it_is_about(make):
    """Pages name the organisation in the refusal's sentence (entrypoints/web/refusals.py)."""
    assert make("some_code", "what went wrong", org_id="GOV/HMRC").org_id == "GOV/HMRC"
    assert make("some_code", "what went wrong").org_id is None
