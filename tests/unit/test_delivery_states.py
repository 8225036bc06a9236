"""A delivery's state changes are its own methods."""

from __future__ import annotations

from datetime import timedelta

from onceonly.domain.life_events import Delivery, DeliveryStatus
from tests.unit.factories import NOW

CLAIMED = Delivery("d1", "r1", "GOV/DWP", 1, "webhook", DeliveryStatus.PENDING, 3,
                   NOW, NOW - timedelta(hours=1), last_error="earlier")
LATER = NOW + timedelta(minutes=5)


def test_a_sent_delivery_is_delivered_dead_lettered_or_tried_again():
    assert CLAIMED.delivered(NOW) == Delivery(
        "d1", "r1", "GOV/DWP", 1, "webhook", DeliveryStatus.DELIVERED, 3, NOW,
        CLAIMED.created_at, delivered_at=NOW, last_error=None)
    failed = CLAIMED.dead_lettered("503")
    assert (failed.status, failed.attempts, failed.last_error) == (DeliveryStatus.FAILED, 3,
                                                                   "503")
    again = CLAIMED.to_retry("timeout", LATER)
    assert (again.status, again.attempts, again.next_attempt_at, again.last_error) == (
        DeliveryStatus.PENDING, 3, LATER, "timeout")


def test_a_claim_that_sends_nothing_gives_its_attempt_back():
    held = CLAIMED.held(LATER)
    assert (held.attempts, held.next_attempt_at, held.mode) == (2, LATER, "webhook")
    boxed = CLAIMED.to_inbox(LATER)  # waits in the inbox from then, not from its last try
    assert (boxed.attempts, boxed.next_attempt_at, boxed.mode) == (2, LATER, "inbox")


def test_a_requeued_delivery_starts_again_from_its_first_attempt():
    requeued = CLAIMED.dead_lettered("gone").requeued(LATER)
    assert (requeued.status, requeued.attempts, requeued.next_attempt_at,
            requeued.last_error) == (DeliveryStatus.PENDING, 0, LATER, None)
