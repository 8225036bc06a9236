"""The server's background work (api/background.py): steps until nothing waits, serves
requests between steps on the event loop, survives a failing step, finishes on stop."""

from __future__ import annotations

import asyncio
import threading

import pytest
import structlog

from onceonly.entrypoints.api import background
from onceonly.entrypoints.api.background import Periodic, Step
from tests.support.loops import run_in_own_loop
from tests.support.waiting import until


def counting(more: int) -> tuple[list[int], Step]:
    """A step that reports work waiting `more` times, then none, each tick."""
    calls: list[int] = []

    def step() -> bool:
        calls.append(threading.get_ident())
        return len(calls) % (more + 1) != 0

    return calls, step


@pytest.mark.parametrize("on_the_loop", [True, False], ids=["loop", "thread"])
def test_each_tick_steps_until_nothing_waits_on_the_chosen_thread(on_the_loop):
    calls, step = counting(more=2)

    async def main() -> int:
        worker = Periodic("test", 0.01, step, on_the_loop=on_the_loop)
        worker.start()
        await until(lambda: len(calls) >= 6, "two ticks of three steps")
        await worker.stop()
        return threading.get_ident()

    loop_thread = run_in_own_loop(main())
    assert len(calls) >= 6
    ran_on_the_loop = {ident == loop_thread for ident in calls[:6]}
    assert ran_on_the_loop == {on_the_loop}


def test_on_the_loop_requests_waiting_go_between_steps():
    order: list[str] = []

    def step() -> bool:
        if not order:  # a request arrives during the first step
            asyncio.get_running_loop().call_soon(order.append, "request")
        order.append("step")
        return order.count("step") < 3

    async def main() -> None:
        worker = Periodic("test", 0.01, step, on_the_loop=True)
        worker.start()
        await until(lambda: order.count("step") >= 3, "three steps")
        await worker.stop()

    run_in_own_loop(main())
    assert order[:4] == ["step", "request", "step", "step"]


@pytest.mark.parametrize("on_the_loop", [True, False], ids=["loop", "thread"])
def test_a_failing_step_is_logged_and_tried_again_at_the_next_tick(on_the_loop, capsys):
    calls: list[int] = []

    def step() -> bool:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return False

    async def main() -> None:
        worker = Periodic("flaky", 0.01, step, on_the_loop=on_the_loop)
        worker.start()
        await until(lambda: len(calls) >= 2, "a step after the failing one")
        await worker.stop()

    run_in_own_loop(main())
    assert len(calls) >= 3  # the failure, the next tick, and the last run on stop
    assert "background work failed" in capsys.readouterr().out


def test_stop_does_what_is_left_even_if_no_tick_came():
    calls, step = counting(more=4)

    async def main() -> None:
        worker = Periodic("test", 3600, step, on_the_loop=True)
        worker.start()
        await worker.stop()

    run_in_own_loop(main())
    assert len(calls) == 5


def test_a_failure_repeated_every_tick_is_logged_once_then_counted(monkeypatch):
    """Not a line a second for as long as it lasts: the first with its traceback, then how
    many times it happened when it ends."""
    captured = structlog.testing.CapturingLogger()
    monkeypatch.setattr(background, "log", structlog.wrap_logger(
        captured, processors=[], wrapper_class=structlog.make_filtering_bound_logger(0)))
    outcomes = [RuntimeError("entry 4: unreadable (detail is a list)")] * 5 + [
        RuntimeError("the database went away")] * 2 + [False]
    worker = Periodic("audit-integrator", 3600, lambda: raise_or_return(outcomes.pop(0)),
                      on_the_loop=True)

    for _ in range(8):
        worker.run_once()

    logged = [(call.method_name, call.args, call.kwargs) for call in captured.calls]
    assert [(method, kwargs["event"], kwargs.get("failures"), kwargs["error"])
            for method, _args, kwargs in logged] == [
        ("error", "background work failed", None, "entry 4: unreadable (detail is a list)"),
        ("warning", "background work failed otherwise", 5,
         "entry 4: unreadable (detail is a list)"),
        ("error", "background work failed", None, "the database went away"),
        ("info", "background work recovered", 2, "the database went away")]
    assert logged[0][2]["exc_info"] is True and logged[0][2]["work"] == "audit-integrator"


def raise_or_return(outcome: Exception | bool) -> bool:
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
