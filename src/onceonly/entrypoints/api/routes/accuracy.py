"""Accuracy over HTTP: a citizen challenges a value a provider holds about them; the
provider's guardian works through the queue and corrects or rejects; each consumer that
received the old value finds a notice in its inbox of correction notices."""

from __future__ import annotations

from fastapi import APIRouter

from onceonly.entrypoints.api.caller import Caller, ExchangeDep
from onceonly.entrypoints.api.json_bodies import JsonRoute
from onceonly.entrypoints.api.schemas.accuracy import (
    ChallengeIn,
    ChallengeOut,
    CorrectIn,
    CorrectionOut,
    NoticeOut,
    NotifiedOut,
    QueueItemOut,
)
from onceonly.entrypoints.api.schemas.common import IdPath, ReasonIn

router = APIRouter(tags=["accuracy"], route_class=JsonRoute)


@router.post("/v1/me/challenges", status_code=201, response_model=ChallengeOut)
def raise_challenge(body: ChallengeIn, caller: Caller, exchange: ExchangeDep) -> ChallengeOut:
    """Challenge a value a provider holds about you; its guardian decides."""
    return ChallengeOut.of(exchange.accuracy.raise_challenge(
        caller, body.dataset_id, body.field, body.what_is_wrong, body.proposed_value))


@router.get("/v1/me/challenges", response_model=list[ChallengeOut])
def my_challenges(caller: Caller, exchange: ExchangeDep) -> list[ChallengeOut]:
    return [ChallengeOut.of(c) for c in exchange.accuracy.mine(caller)]


@router.get("/v1/challenges", response_model=list[QueueItemOut])
def challenge_queue(caller: Caller, exchange: ExchangeDep) -> list[QueueItemOut]:
    """Challenges about your organisation's data, newest first (a guardian)."""
    return [QueueItemOut(**ChallengeOut.of(i.challenge).model_dump(), subject=i.subject)
            for i in exchange.accuracy.queue(caller)]


@router.post("/v1/challenges/{challenge_id}/correct", response_model=CorrectionOut)
def correct(challenge_id: IdPath, body: CorrectIn, caller: Caller,
            exchange: ExchangeDep) -> CorrectionOut:
    """Correct the record in your organisation's own store; everyone who received the
    old value and may still keep it is told."""
    done = exchange.accuracy.correct(caller, challenge_id, body.value, body.reason)
    return CorrectionOut(
        challenge=ChallengeOut.of(done.challenge), correction_id=done.correction_id,
        notified=[NotifiedOut(consumer=r.consumer_id, agreement_id=r.agreement_id,
                              fields=list(r.fields), releases=len(r.release_ids))
                  for r in done.notified])


@router.post("/v1/challenges/{challenge_id}/reject", response_model=ChallengeOut)
def reject(challenge_id: IdPath, body: ReasonIn, caller: Caller,
           exchange: ExchangeDep) -> ChallengeOut:
    return ChallengeOut.of(exchange.accuracy.reject(caller, challenge_id, body.reason))


@router.get("/v1/correction-notices", response_model=list[NoticeOut])
def correction_notices(caller: Caller, exchange: ExchangeDep) -> list[NoticeOut]:
    """Corrections of values your organisation received, newest first."""
    return [NoticeOut(**n) for n in exchange.accuracy.notices(caller)]
