"""A dataset's fields as published, and what a new version changes of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from onceonly.domain.agreements import AgreementStatus, agreements_using
from onceonly.domain.catalogue import (
    MAX_FIELDS,
    FieldSpec,
    FieldType,
    Sensitivity,
    SourceLabel,
    changed_fields,
    check_fields,
)
from onceonly.domain.errors import DomainError
from tests.unit.factories import INCOME, NOW, agreement


def spec(name: str, kind: FieldType = FieldType.STRING) -> FieldSpec:
    return FieldSpec(name, kind, Sensitivity.PERSONAL, SourceLabel.VERIFIED)


def test_fields_named_well_and_once_pass():
    check_fields([spec("a"), spec("b_2"), spec("c" * 64)])
    check_fields([spec(f"f{i}") for i in range(MAX_FIELDS)])


@pytest.mark.parametrize(("fields", "code"), [
    ([], "no_fields"),
    ([spec(f"f{i}") for i in range(MAX_FIELDS + 1)], "too_many_fields"),
    ([spec("Name")], "invalid_field_name"),
    ([spec("1st")], "invalid_field_name"),
    ([spec("name\n")], "invalid_field_name"),
    ([spec("c" * 65)], "invalid_field_name"),
    ([spec("a"), spec("b"), spec("a", FieldType.DATE)], "duplicate_field"),
])
def test_fields_that_break_a_rule(fields, code):
    with pytest.raises(DomainError) as error:
        check_fields(fields)
    assert (error.value.kind, error.value.code) == ("invalid", code)
    if code in ("invalid_field_name", "duplicate_field"):
        assert repr(fields[-1].name) in error.value.detail


def test_a_version_changes_the_fields_it_removes_or_retypes_only():
    kept = list(INCOME.fields)
    assert changed_fields(INCOME, kept) == ()
    assert changed_fields(INCOME, [*kept, spec("new")]) == ()
    relabelled = [replace(f, label="x", description="y", sensitivity=Sensitivity.SPECIAL)
                  for f in kept]
    assert changed_fields(INCOME, relabelled) == ()
    assert changed_fields(INCOME, kept[1:]) == ("full_name",)
    retyped = [spec("annual_income") if f.name == "annual_income" else f for f in kept]
    assert changed_fields(INCOME, retyped) == ("annual_income",)
    assert changed_fields(INCOME, []) == tuple(f.name for f in INCOME.fields)


def test_the_agreements_in_force_that_use_a_field():
    approved = agreement(id=1)
    suspended = agreement(id=2, status=AgreementStatus.SUSPENDED)
    others = [agreement(id=3, status=status) for status in (
        AgreementStatus.DRAFT, AgreementStatus.SUBMITTED, AgreementStatus.REJECTED,
        AgreementStatus.REVOKED)]
    expired = agreement(id=4, valid_until=NOW)
    pending = agreement(id=5, valid_from=NOW + timedelta(days=1))
    every = [approved, suspended, *others, expired, pending]
    assert [a.id for a in agreements_using(every, ["annual_income"], NOW)] == [1, 2, 5]
    assert [a.id for a in agreements_using(every, ["full_name", "x"], NOW)] == [1, 2, 5]
    assert agreements_using(every, ["date_of_birth"], NOW) == []
    assert agreements_using(every, [], NOW) == []
    assert approved.in_force_at(NOW + timedelta(days=29))
    assert not approved.in_force_at(NOW + timedelta(days=30))


def test_a_field_is_named_in_welsh_where_the_catalogue_has_it_and_in_english_else():
    both = replace(spec("tax_code"), label="Tax code", label_cy="Cod treth",
                   description="PAYE tax code", description_cy="cod treth TWE")
    assert (both.label_in("en"), both.label_in("cy")) == ("Tax code", "Cod treth")
    assert (both.description_in("en"), both.description_in("cy")) == ("PAYE tax code",
                                                                      "cod treth TWE")
    english_only = replace(both, label_cy="", description_cy="")
    assert english_only.label_in("cy") == "Tax code"
    assert english_only.description_in("cy") == "PAYE tax code"
    assert spec("tax_code").label_in("cy") == "tax_code"  # no label at all: its own name
    assert spec("tax_code").label_in("en") == "tax_code"
