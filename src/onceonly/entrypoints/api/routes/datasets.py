"""Datasets over HTTP: a provider's guardian publishes one (or its next version) under one
of its organisation's systems, and tries its connector on one person; anyone reads them
with their versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.routes.keys import OrgClass, OrgCode
from onceonly.entrypoints.api.routes.queries import PROVIDER_FAILURES
from onceonly.entrypoints.api.schemas.datasets import (
    DatasetOut,
    DatasetTestIn,
    DatasetTestOut,
    PublicationIn,
)

router = APIRouter(tags=["catalogue"], route_class=JsonRoute)
SystemName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,32}$", examples=["income"],
                                 description="the dataset's own name under its organisation")]


@router.post("/v1/datasets", status_code=201, response_model=DatasetOut)
def publish_dataset(body: PublicationIn, caller: Caller, exchange: ExchangeDep) -> DatasetOut:
    """Publish a dataset under one of the caller's organisation's systems, or its next
    version. An HTTP connector is checked against the provider's OpenAPI document when one
    is attached (422 `connector_contract_mismatch`, naming the field); the connector is tried
    once first (422 `connector_unusable`, nothing stored); a
    version that removes or retypes a field an agreement in force uses is refused (409
    `field_in_use`, naming the agreements)."""
    dataset = exchange.datasets.publish(caller, body.publication())
    versions = exchange.catalogue.read().versions.get(dataset.id, ())
    return DatasetOut.of(dataset, versions)


@router.get("/v1/datasets", response_model=list[DatasetOut])
def list_datasets(exchange: ExchangeDep) -> list[DatasetOut]:
    """Every dataset with its versions, oldest first. Public, as the catalogue."""
    catalogue = exchange.catalogue.read()
    return [DatasetOut.of(d, catalogue.versions.get(d.id, ())) for d in catalogue.datasets]


@router.post("/v1/datasets/{org_class}/{org_code}/{name}/test", response_model=DatasetTestOut,
             responses=PROVIDER_FAILURES)
def test_dataset(org_class: OrgClass, org_code: OrgCode, name: SystemName,
                 body: DatasetTestIn, caller: Caller, exchange: ExchangeDep) -> DatasetTestOut:
    """Read one person's record through the dataset's connector and show what each
    agreement in force would release from it, as `onceonly dataset test` does. Only a data
    guardian of the dataset's provider (403 `not_your_organisation`); the person named in
    the provider's own scheme or one linked to it (404 `subject_unknown`, or
    `record_unknown` when the provider's system holds no record). Audited, refusals too."""
    dataset_id = f"{org_class}/{org_code}/{name}"
    would = exchange.datasets.test_read(caller, dataset_id, body.subject.scheme,
                                        body.subject.value)
    return DatasetTestOut.of(dataset_id, would)
