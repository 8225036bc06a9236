"""The catalogue over HTTP: what the exchange offers, for anyone to read."""

from __future__ import annotations

from fastapi import APIRouter

from onceonly.entrypoints.api.caller import ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.catalogue import CatalogueOut

router = APIRouter(tags=["catalogue"], route_class=JsonRoute)


@router.get("/v1/catalogue", response_model=CatalogueOut)
def catalogue(exchange: ExchangeDep) -> CatalogueOut:
    return CatalogueOut.of(exchange.catalogue.read())
