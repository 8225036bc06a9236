"""The in-process doorbell (adapters/doorbell.py): a ring from any thread wakes every
listener at once; a ring while a listener is busy is kept for its next wait; a listener
that has closed is not rung; without a ring a wait lasts its time. Deliveries claimed at a
report's intake are handed to one listening worker, whose wait they end without counting
as a ring; with no worker listening, nobody takes them."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

from onceonly.adapters.doorbell import InProcessDoorbell
from onceonly.domain.life_events import Delivery, DeliveryStatus
from onceonly.services.ports.delivery import Claim, Opened
from tests.support.loops import run_in_own_loop


def test_a_ring_from_another_thread_wakes_every_listener_at_once() -> None:
    doorbell = InProcessDoorbell()

    async def main() -> float:
        listeners = [doorbell.listen(), doorbell.listen()]
        started = time.monotonic()
        threading.Timer(0.2, doorbell.ring).start()
        await asyncio.gather(*(listener.wait(30) for listener in listeners))
        return time.monotonic() - started

    assert run_in_own_loop(main()) < 10


def test_a_ring_while_busy_is_kept_for_the_next_wait_and_then_spent() -> None:
    doorbell = InProcessDoorbell()

    async def main() -> tuple[float, float, bool, bool]:
        listener = doorbell.listen()
        await asyncio.to_thread(doorbell.ring)  # rung while not waiting
        await asyncio.sleep(0)
        started = time.monotonic()
        rung = await listener.wait(30)
        kept = time.monotonic() - started
        started = time.monotonic()
        timed_out = not await listener.wait(0.3)  # spent: this one waits its time
        return kept, time.monotonic() - started, rung, timed_out

    kept, spent, rung, timed_out = run_in_own_loop(main())
    assert kept < 10 and spent >= 0.25
    assert rung and timed_out  # the worker learns which: a rung claim skips its look


def test_a_closed_listener_is_not_rung() -> None:
    doorbell = InProcessDoorbell()

    async def main() -> float:
        listener = doorbell.listen()
        listener.close()
        doorbell.ring()
        started = time.monotonic()
        await listener.wait(0.3)
        return time.monotonic() - started

    assert run_in_own_loop(main()) >= 0.25


def opened(delivery_id: str) -> Opened:
    now = datetime.now(UTC)
    return Opened(Claim(Delivery(delivery_id, "r", "GOV/DVLA", 1, "webhook",
                                 DeliveryStatus.PENDING, 1, now, now),
                        "http://127.0.0.1:9/dvla", b"sealed", "token"), b"{}")


def test_a_hand_over_goes_to_one_listening_worker_and_ends_its_wait_unrung() -> None:
    doorbell = InProcessDoorbell()
    assert not doorbell.has_worker()
    assert not doorbell.hand_over([opened("nobody")])  # no worker: the lease will end

    async def main() -> tuple[float, bool, list[list[str]]]:
        listeners = [doorbell.listen(), doorbell.listen()]
        assert doorbell.has_worker()
        started = time.monotonic()
        handed = await asyncio.to_thread(doorbell.hand_over, [opened("a"), opened("b")])
        assert handed
        rung = await next_woken(listeners)
        took = time.monotonic() - started
        return took, rung, [[o.claim.delivery.id for o in listener.handed()]
                            for listener in listeners]

    took, rung, taken = run_in_own_loop(main())
    assert took < 10 and not rung  # woken, but not rung: no claim follows for it
    assert sorted(taken, key=len) == [[], ["a", "b"]]  # one worker took them all


async def next_woken(listeners) -> bool:
    waits = [asyncio.ensure_future(listener.wait(30)) for listener in listeners]
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for waiting in pending:
        waiting.cancel()
    return next(iter(done)).result()
