"""This exchange as a witness over HTTP (C2SP tlog-witness): `add-checkpoint` for the logs it
watches, and the latest checkpoint it cosigned of each. Answered only when the exchange is
configured as a witness (ONCEONLY_WITNESS_KEY_FILE); else 404 `witness_not_enabled`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from onceonly.entrypoints.api.caller import ExchangeDep
from onceonly.entrypoints.api.dispatch import Run
from onceonly.entrypoints.api.problems import problem
from onceonly.services.witness import WitnessRefused

SIZE = "text/x.tlog.size"
NOTE = "text/plain; charset=utf-8"
MAX_BODY = 64 * 1024

router = APIRouter(tags=["witness"])

ANSWERS: dict[int | str, dict[str, object]] = {
    200: {"content": {NOTE: {}}, "description": "the witness's cosignature lines"},
    400: {"description": "`malformed_request`, `old_size_beyond_checkpoint`"},
    403: {"description": "`checkpoint_not_signed`: no signature of the log's operator "
                         "verifies"},
    404: {"description": "`unknown_log`, `witness_not_enabled`"},
    409: {"content": {SIZE: {}}, "description": "the size of the latest checkpoint cosigned "
                                                "(`old_size_mismatch`, `log_rolled_back`, "
                                                "`log_forked`)"},
    422: {"description": "`log_forked`: the consistency proof does not verify"},
}


def _refused(refusal: WitnessRefused) -> Response:
    if refusal.status == 409 and refusal.size is not None:
        return PlainTextResponse(f"{refusal.size}\n", 409, media_type=SIZE,
                                 headers={"X-Refusal-Code": refusal.code})
    return problem(refusal.status, refusal.code, refusal.detail)


def _not_enabled() -> Response:
    return problem(404, "witness_not_enabled", "this exchange is not a witness")


@router.post("/witness/add-checkpoint", response_class=Response, responses=ANSWERS)
async def add_checkpoint(request: Request, exchange: ExchangeDep) -> Response:
    """A log's new checkpoint with a consistency proof from the last one cosigned (C2SP
    tlog-witness); the body is text, as the specification lays it out."""
    if not exchange.witness.enabled:
        return _not_enabled()
    body = await request.body()
    if len(body) > MAX_BODY:
        return problem(413, "body_too_large", f"a checkpoint request is under {MAX_BODY} bytes")
    run: Run[str] = request.app.state.run_blocking
    try:
        lines = await run(lambda: exchange.witness.add_checkpoint(body))
    except WitnessRefused as refusal:
        return _refused(refusal)
    return PlainTextResponse(lines, media_type=NOTE)


@router.get("/witness/checkpoint", response_class=Response, responses={
    200: {"content": {NOTE: {}}, "description": "a checkpoint note with a cosignature"},
    404: {"description": "`no_checkpoint`, `witness_not_enabled`"}})
def checkpoint(origin: Annotated[str, Query(min_length=1, max_length=200)],
               exchange: ExchangeDep) -> Response:
    """The latest checkpoint of `origin` this witness cosigned, as a note with its
    cosignature (made now: it is still the largest seen)."""
    if not exchange.witness.enabled:
        return _not_enabled()
    try:
        return PlainTextResponse(exchange.witness.checkpoint(origin), media_type=NOTE)
    except WitnessRefused as refusal:
        return _refused(refusal)
