"""Bulk extracts over HTTP: ask, decide, download once (as a JWE, application/jose)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from onceonly.crypto.jwe import CONTENT_TYPE
from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.bulk import BulkExtractIn, BulkExtractOut
from onceonly.entrypoints.api.schemas.common import IdPath, ReasonIn

router = APIRouter(tags=["bulk extracts"], route_class=JsonRoute)


@router.post("/v1/bulk-extracts", status_code=201, response_model=BulkExtractOut)
def request(body: BulkExtractIn, caller: Caller, exchange: ExchangeDep) -> BulkExtractOut:
    """Ask for an extract of the agreed fields about a cohort (an officer of the
    consumer, under an agreement that allows bulk extracts)."""
    cohort = [(s.scheme, s.value) for s in body.subjects]
    return BulkExtractOut.of(exchange.bulk.request(caller, body.agreement_id, body.purpose,
                                                   cohort, body.recipient_jwk))


@router.get("/v1/bulk-extracts/{extract_id}", response_model=BulkExtractOut)
def status(extract_id: IdPath, caller: Caller, exchange: ExchangeDep) -> BulkExtractOut:
    return BulkExtractOut.of(exchange.bulk.get(caller, extract_id))


@router.post("/v1/bulk-extracts/{extract_id}/approve", response_model=BulkExtractOut)
def approve(extract_id: IdPath, body: ReasonIn, caller: Caller,
            exchange: ExchangeDep) -> BulkExtractOut:
    """Approve, build and encrypt the extract (a guardian of the provider)."""
    return BulkExtractOut.of(exchange.bulk.approve(caller, extract_id, body.reason))


@router.post("/v1/bulk-extracts/{extract_id}/reject", response_model=BulkExtractOut)
def reject(extract_id: IdPath, body: ReasonIn, caller: Caller,
           exchange: ExchangeDep) -> BulkExtractOut:
    return BulkExtractOut.of(exchange.bulk.reject(caller, extract_id, body.reason))


@router.get("/v1/bulk-extracts/{extract_id}/download", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
                             "description": "the extract as a compact JWE (ECDH-ES, "
                                            "A256GCM) to the consumer's key; once"}})
def download(extract_id: IdPath, caller: Caller, exchange: ExchangeDep) -> Response:
    return Response(exchange.bulk.download(caller, extract_id), media_type=CONTENT_TYPE)
