"""Publishing datasets on fakes: who may, what is checked, the connector tried before
anything is stored, versions, and the fields agreements in force still use."""

from __future__ import annotations

from dataclasses import replace

import pytest

from onceonly.crypto.canonical import sha256_hex
from onceonly.domain.agreements import AgreementStatus
from onceonly.domain.catalogue import FieldSpec, FieldType, Sensitivity, SourceLabel
from onceonly.domain.errors import DomainError
from onceonly.domain.organisations import Organisation, Role
from onceonly.services.datasets import DatasetService, Publication
from tests.fakes.clock import FixedClock
from tests.fakes.connectors import FakeConnectors
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory
from tests.unit.factories import INCOME, NOW, agreement, principal
from tests.unit.services.conftest import CONSUMER, PROVIDER

GUARDIAN = principal(PROVIDER, Role.GUARDIAN)
VAT = "GOV/HMRC/vat"


def spec(name: str, kind: FieldType = FieldType.STRING) -> FieldSpec:
    return FieldSpec(name, kind, Sensitivity.PERSONAL, SourceLabel.VERIFIED, "", name)


def publication(**changes) -> Publication:
    base = Publication(VAT, "VAT", "nino", (spec("vat_number"), spec("registered",
                                                                      FieldType.DATE)),
                       {"kind": "fake"}, offers=("is_present",))
    return replace(base, **changes)


@pytest.fixture
def connectors() -> FakeConnectors:
    return FakeConnectors()


@pytest.fixture
def datasets(uows: FakeUnitOfWorkFactory, connectors: FakeConnectors,
             clock: FixedClock) -> DatasetService:
    uows.data.organisations[PROVIDER] = Organisation(PROVIDER, "Revenue",
                                                     (INCOME.id, VAT, "GOV/HMRC/deaths"))
    return DatasetService(uows, connectors, clock)


def refused(call, *args) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value


def test_publish_tries_the_connector_then_stores_version_one_and_audits(
        datasets: DatasetService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    dataset = datasets.publish(GUARDIAN, publication())
    assert (dataset.id, dataset.provider_id, dataset.version) == (VAT, PROVIDER, 1)
    assert connectors.checked == [(VAT, ("vat_number", "registered"))]
    assert uows.data.datasets[VAT] == dataset and uows.data.published == [
        (dataset, NOW, GUARDIAN.id)]
    [entry] = uows.data.audit
    assert (entry.entry.action, entry.entry.outcome, entry.entry.fields) == (
        "dataset.publish", "done", ("vat_number", "registered"))
    again = datasets.publish(GUARDIAN, publication(title="VAT, again"))
    assert again.version == 2 and uows.data.datasets[VAT].title == "VAT, again"


@pytest.mark.parametrize(("actor", "change", "code"), [
    (principal(CONSUMER, Role.GUARDIAN), {}, "not_your_organisation"),
    (principal(PROVIDER, Role.OFFICER), {}, "not_your_organisation"),
    (GUARDIAN, {"system_id": "GOV/HMRC/nosuch"}, "system_unknown"),
    (GUARDIAN, {"system_id": "GOV/HMRC"}, "invalid_system_id"),
    (GUARDIAN, {"fields": ()}, "no_fields"),
    (GUARDIAN, {"title": "  "}, "title_required"),
    (GUARDIAN, {"subject_scheme": "nosuch"}, "unknown_scheme"),
    (GUARDIAN, {"offers": ("as_is",)}, "unknown_transform"),
    (GUARDIAN, {"offers": ("is_present", "is_present")}, "duplicate_offer"),
    (GUARDIAN, {"offers": ("income_band",)}, "transform_mismatch"),
    (GUARDIAN, {"event_types": ("no.such",)}, "event_type_unknown"),
    (GUARDIAN, {"event_types": ("a", "b")}, "one_event_type_per_register"),
    (GUARDIAN, {"connector": {"kind": "pigeon"}}, "connector_invalid"),
])
def test_refusals_are_audited_and_store_nothing(datasets: DatasetService,
                                                uows: FakeUnitOfWorkFactory,
                                                connectors: FakeConnectors,
                                                actor, change, code) -> None:
    assert refused(datasets.publish, actor, publication(**change)).code == code
    assert VAT not in uows.data.datasets and connectors.checked == []
    [entry] = uows.data.audit
    assert (entry.entry.action, entry.entry.outcome, entry.entry.reason) == (
        "dataset.publish", "deny", code)


def test_an_unusable_connector_stores_nothing(datasets: DatasetService,
                                              uows: FakeUnitOfWorkFactory,
                                              connectors: FakeConnectors) -> None:
    connectors.unusable[VAT] = "the store's table vat has no column registered"
    error = refused(datasets.publish, GUARDIAN, publication())
    assert error.code == "connector_unusable"
    assert "has no column registered" in error.detail and "Nothing was published" in error.detail
    assert VAT not in uows.data.datasets and uows.data.published == []


def test_a_register_holds_its_event_type_alone(datasets: DatasetService,
                                               uows: FakeUnitOfWorkFactory) -> None:
    register = publication(event_types=("gov.onceonly.death.registered",))
    first = datasets.publish(GUARDIAN, register)
    assert first.event_type == "gov.onceonly.death.registered"
    assert datasets.publish(GUARDIAN, register).version == 2  # its own next version
    other = replace(register, system_id="GOV/HMRC/deaths")
    assert refused(datasets.publish, GUARDIAN, other).code == "already_exists"


def test_an_events_connector_is_for_a_register_alone(datasets: DatasetService,
                                                    uows: FakeUnitOfWorkFactory) -> None:
    error = refused(datasets.publish, GUARDIAN, publication(connector={"kind": "events"}))
    assert error.code == "events_connector_without_event_type"
    assert VAT not in uows.data.datasets and uows.data.published == []


def test_a_version_may_not_drop_or_retype_a_field_an_agreement_in_force_uses(
        datasets: DatasetService, uows: FakeUnitOfWorkFactory) -> None:
    uows.data.agreements[2] = agreement(id=2, status=AgreementStatus.SUSPENDED)
    uows.data.agreements[3] = agreement(id=3, status=AgreementStatus.REVOKED)
    fields = tuple(f for f in INCOME.fields if f.name != "annual_income")
    income = publication(system_id=INCOME.id, fields=fields, offers=())
    error = refused(datasets.publish, GUARDIAN, income)
    assert error.code == "field_in_use"
    assert "annual_income" in error.detail and "1, 2" in error.detail and "3" not in \
        error.detail.split(":")[-1].split(".")[0]
    retyped = (*fields, spec("annual_income"))
    assert refused(datasets.publish, GUARDIAN, replace(income, fields=retyped)).code == \
        "field_in_use"
    assert uows.data.datasets[INCOME.id] == INCOME
    # A field only a revoked agreement uses may go.
    unused = tuple(f for f in INCOME.fields if f.name != "conditions")
    assert datasets.publish(GUARDIAN, replace(income, fields=unused)).version == 2


def test_a_version_published_meanwhile_wins(datasets: DatasetService,
                                            uows: FakeUnitOfWorkFactory,
                                            connectors: FakeConnectors) -> None:
    datasets.publish(GUARDIAN, publication())
    original = connectors.for_dataset

    def publish_meanwhile(dataset_id, config):  # another guardian, while this one checks
        uows.data.datasets[VAT] = replace(uows.data.datasets[VAT], version=2)
        return original(dataset_id, config)

    connectors.for_dataset = publish_meanwhile  # type: ignore[method-assign]
    assert refused(datasets.publish, GUARDIAN, publication()).code == "concurrent_update"


def test_an_http_connector_is_checked_against_the_attached_document_before_it_is_tried(
        datasets: DatasetService, uows: FakeUnitOfWorkFactory,
        connectors: FakeConnectors) -> None:
    document = {"openapi": "3.1.0", "paths": {}}
    http = publication(connector={"kind": "http", "url": "http://127.0.0.1/vat/{id}"},
                       openapi=document)
    connectors.mismatch = "registered"
    error = refused(datasets.publish, GUARDIAN, http)
    assert (error.code, error.detail) == ("connector_contract_mismatch",
                                          "registered: the document says otherwise")
    assert connectors.checked == [] and VAT not in uows.data.datasets
    [entry] = uows.data.audit
    assert (entry.entry.action, entry.entry.outcome, entry.entry.reason) == (
        "dataset.publish", "deny", "connector_contract_mismatch")
    connectors.mismatch = None
    assert datasets.publish(GUARDIAN, http).version == 1
    assert connectors.contracts[-1] == (document, {"vat_number": "string",
                                                   "registered": "date"})
    assert uows.data.audit[-1].entry.detail["openapi"] == sha256_hex(document)
    # Only an HTTP connector has a document to agree with.
    sql = publication(connector={"kind": "sql"}, openapi=document)
    assert refused(datasets.publish, GUARDIAN, sql).detail.startswith("kind: ")
    assert len(connectors.contracts) == 2  # the refused one and the published one


@pytest.mark.parametrize("url", [
    "https://provider.example.org/records", "http://127.0.0.2/records", "not a url",
    "http://[::1/broken",
])
def test_an_http_connector_to_a_host_not_allowed_is_refused_untried(
        uows: FakeUnitOfWorkFactory, connectors: FakeConnectors, clock: FixedClock,
        datasets: DatasetService, url: str) -> None:
    allowed = DatasetService(uows, connectors, clock, frozenset({"127.0.0.1", "records.gov"}))
    error = refused(allowed.publish, GUARDIAN,
                    publication(connector={"kind": "http", "url": url}))
    assert error.code == "connector_host_not_allowed"
    assert connectors.checked == [] and VAT not in uows.data.datasets
    assert [(r.entry.outcome, r.entry.reason) for r in uows.data.audit] == [
        ("deny", "connector_host_not_allowed")]


def test_an_http_connector_to_an_allowed_host_is_tried(
        uows: FakeUnitOfWorkFactory, connectors: FakeConnectors, clock: FixedClock,
        datasets: DatasetService) -> None:
    allowed = DatasetService(uows, connectors, clock, frozenset({"records.gov"}))
    dataset = allowed.publish(GUARDIAN, publication(
        connector={"kind": "http", "url": "https://RECORDS.gov:8443/people"}))
    assert dataset.version == 1 and connectors.checked == [(VAT, ("vat_number", "registered"))]
