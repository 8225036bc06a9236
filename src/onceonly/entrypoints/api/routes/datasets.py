"""Datasets over HTTP: a provider's guardian publishes one (or its next version) under one
of its organisation's systems; anyone reads them with their versions."""

from __future__ import annotations

from fastapi import APIRouter

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.datasets import DatasetOut, PublicationIn

router = APIRouter(tags=["catalogue"], route_class=JsonRoute)


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
