"""Bulk extracts over HTTP: ask, decide, download once (as a JWE, application/jose)."""
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import Response

from onceonly.bootstrap import Exchange
from onceonly.crypto.jwe import CONTENT_TYPE
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas import (
    MAX_AGREEMENT_ID,
    BulkExtractIn,
    BulkExtractOut,
    ReasonIn,
)

ExtractId = Annotated[int, Path(gt=0, le=MAX_AGREEMENT_ID)]


def bulk_router(exchange: Exchange, caller_type: Any) -> APIRouter:
    router = APIRouter(tags=["bulk extracts"], route_class=JsonRoute)
    service = exchange.bulk

    @router.post("/v1/bulk-extracts", status_code=201, response_model=BulkExtractOut)
    def request(body: BulkExtractIn, caller: caller_type) -> BulkExtractOut:
        """Ask for an extract of the agreed fields about a cohort (an officer of the
        consumer, under an agreement that allows bulk extracts)."""
        cohort = [(s.scheme, s.value) for s in body.subjects]
        return BulkExtractOut.of(service.request(caller, body.agreement_id, body.purpose,
                                                 cohort, body.recipient_jwk))

    @router.get("/v1/bulk-extracts/{extract_id}", response_model=BulkExtractOut)
    def status(extract_id: ExtractId, caller: caller_type) -> BulkExtractOut:
        return BulkExtractOut.of(service.get(caller, extract_id))

    @router.post("/v1/bulk-extracts/{extract_id}/approve", response_model=BulkExtractOut)
    def approve(extract_id: ExtractId, body: ReasonIn, caller: caller_type) -> BulkExtractOut:
        """Approve, build and encrypt the extract (a guardian of the provider)."""
        return BulkExtractOut.of(service.approve(caller, extract_id, body.reason))

    @router.post("/v1/bulk-extracts/{extract_id}/reject", response_model=BulkExtractOut)
    def reject(extract_id: ExtractId, body: ReasonIn, caller: caller_type) -> BulkExtractOut:
        return BulkExtractOut.of(service.reject(caller, extract_id, body.reason))

    @router.get("/v1/bulk-extracts/{extract_id}/download", response_class=Response,
                responses={200: {"content": {CONTENT_TYPE: {"schema": {"type": "string"}}},
                                 "description": "the extract as a compact JWE (ECDH-ES, "
                                                "A256GCM) to the consumer's key; once"}})
    def download(extract_id: ExtractId, caller: caller_type) -> Response:
        return Response(service.download(caller, extract_id), media_type=CONTENT_TYPE)

    return router
