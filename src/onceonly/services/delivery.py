"""Delivery workers: take due webhook deliveries from the outbox, POST each CloudEvent signed
by the operator's key (Standard Webhooks `v1a`), and write what happened — delivered, retried
later (exponential backoff with jitter), or dead-lettered with the receiving organisation's
guardian alerted.

Several workers may share one database: a claim hides a delivery from the others until its
lease ends. Each outcome is written as its answer arrives, so a worker that dies mid-batch
leaves to be taken again only the deliveries still in flight. An outcome is written only
while its claim stands: one from a worker that stalled past its lease, after another took
the delivery again, is reported and changes nothing. A receiver may therefore see an event
twice (at least once); it applies it once by its id.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from onceonly.crypto.envelope import EnvelopeInvalid
from onceonly.crypto.standard_webhooks import SignedWebhook
from onceonly.domain.agreements import AgreementState
from onceonly.domain.life_events import Delivery, RetryPolicy
from onceonly.services.envelopes import Envelopes
from onceonly.services.life_events import attempt_entry, sealed_context
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.delivery import Claim, DeliveryUnitOfWork, Doorbell, Opened
from onceonly.services.ports.keys import Signer
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger("onceonly.delivery")

DEAD_LETTER_RULE = "delivery_dead_lettered"
# An alert names an agreement; a provider's notice of a correction to its own record has none.
NO_AGREEMENT = 0


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One webhook POST, ready to send: the CloudEvent's bytes and their signatures."""

    claim: Claim
    body: bytes
    signature: SignedWebhook


class Transport(Protocol):
    async def send(self, url: str, body: bytes, signature: SignedWebhook) -> str | None:
        """POST the event; None when the receiver took it (2xx), else what went wrong."""
        ...


class DeliveryService:
    def __init__(self, uows: UnitOfWorkFactory[DeliveryUnitOfWork], clock: Clock,
                 envelopes: Envelopes,
                 signer: Signer, operator_org: str, policy: RetryPolicy, *,
                 lease: timedelta = timedelta(seconds=30), rng: random.Random | None = None,
                 doorbell: Doorbell | None = None) -> None:
        self.uows = uows
        self.clock = clock
        self.envelopes = envelopes
        self.signer = signer
        self.operator_org = operator_org
        self.policy = policy
        self.lease = lease
        self.rng = rng or random.SystemRandom()
        self.doorbell = doorbell  # what wakes an idle worker of this process (None: polling)

    def claim(self, limit: int, *, rung: bool = False) -> list[Outgoing]:
        """Take up to `limit` due deliveries. Those whose agreement is no longer active are
        settled at once: ended ones fail, suspended ones wait (nothing goes out after a
        guardian's revocation, or while an agreement is suspended). `rung`: the doorbell
        just said deliveries were queued, so the look before taking is skipped."""
        now = self.clock.now()
        if not rung:
            with self.uows(transaction=False) as uow:  # idle polls: no write lock for them
                if not uow.life_events.any_due(now):
                    return []
        with self.uows(write=True) as uow:
            claims = uow.life_events.claim(now, now + self.lease, limit)
            states = _states(uow, {c.delivery.agreement_id for c in claims}, now)
            held = [c for c in claims
                    if states[c.delivery.agreement_id] is not AgreementState.ACTIVE
                    or not c.url]
            uow.life_events.settle([(c.token, self._hold(
                c.delivery, states[c.delivery.agreement_id], c.url, now)) for c in held])
            uow.commit()
        held_ids = {c.delivery.id for c in held}
        outgoing, unopenable = [], []
        for claim in claims:
            if claim.delivery.id in held_ids:
                continue
            try:
                body = self.envelopes.decrypt(claim.sealed,
                                              sealed_context(claim.delivery.id))
            except EnvelopeInvalid as problem:  # damaged, or its data key gone: never sendable
                unopenable.append((claim, f"the notification cannot be opened: {problem}"))
                continue
            outgoing.append(Outgoing(claim, body, self.signer.sign_webhook_for(
                self.operator_org, claim.delivery.id, now, body)))
        if unopenable:
            self._record(unopenable, give_up=True)
        return outgoing

    def sign(self, handed: Sequence[Opened]) -> list[Outgoing]:
        """Deliveries claimed at their report's intake and handed to this worker, ready to
        send: their agreements were active and their notifications built a moment ago."""
        now = self.clock.now()
        return [Outgoing(o.claim, o.body, self.signer.sign_webhook_for(
            self.operator_org, o.claim.delivery.id, now, o.body)) for o in handed]

    def settle(self, results: Sequence[tuple[Outgoing, str | None]]) -> None:
        """Write each outcome, with its audit entry, in one transaction."""
        self._record([(sent.claim, error) for sent, error in results])

    def _record(self, results: Sequence[tuple[Claim, str | None]], *,
                give_up: bool = False) -> None:
        now = self.clock.now()
        outcomes = [(claim, error, *self._outcome(claim.delivery, error, now, give_up))
                    for claim, error in results]
        with self.uows(write=True) as uow:
            written = uow.life_events.settle([(claim.token, done)
                                              for claim, _, done, _ in outcomes])
            stale = []
            for claim, error, done, outcome in outcomes:
                if done.id not in written:  # the attempt was made: the audit log keeps it
                    stale.append((claim.delivery, outcome))
                    uow.audit.record(attempt_entry(claim.delivery, "stale", error=error), now)
                    continue
                if outcome == "dead_lettered":
                    uow.alerts.add(now, done.receiver_id, done.receiver_id,
                                   done.agreement_id or NO_AGREEMENT,
                                   None, DEAD_LETTER_RULE,
                                   {"delivery": done.id, "report": done.report_id,
                                    "attempts": done.attempts, "last_error": error[:200]})
                    log.warning("delivery dead-lettered", delivery=done.id,
                                receiver=done.receiver_id, error=error)
                uow.audit.record(attempt_entry(done, outcome, error=error), now)
            uow.commit()
        for delivery, outcome in stale:
            log.warning("stale delivery outcome not written", delivery=delivery.id,
                        attempt=delivery.attempts, outcome=outcome,
                        why="its lease ended and another worker took the delivery again")

    def _outcome(self, delivery: Delivery, error: str | None, now: datetime,
                 give_up: bool) -> tuple[Delivery, str]:
        if error is None:
            return delivery.delivered(now), "delivered"
        if give_up or self.policy.exhausted(delivery.attempts):
            return delivery.dead_lettered(error), "dead_lettered"
        return delivery.to_retry(
            error, now + self.policy.delay(delivery.attempts, self.rng)), "retry"

    def _hold(self, delivery: Delivery, state: AgreementState, url: str,
              now: datetime) -> Delivery:
        if not url:  # the receiver moved to its inbox since the report
            return delivery.to_inbox(now)
        if state in (AgreementState.SUSPENDED, AgreementState.PENDING):
            return delivery.held(now + self.policy.delay(1, self.rng))
        return delivery.dead_lettered(f"the notification agreement is {state}: not delivered")


def _states(uow: DeliveryUnitOfWork, agreement_ids: set[int | None],
            now: datetime) -> dict[int | None, AgreementState]:
    """Each agreement's state, read at once; None (a provider told of a correction to its
    own record) is active, and an agreement that is gone is revoked."""
    found = uow.agreements.get_each([i for i in agreement_ids if i is not None])
    return {i: AgreementState.ACTIVE if i is None
            else found[i].state_at(now) if i in found else AgreementState.REVOKED
            for i in agreement_ids}
