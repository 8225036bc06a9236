"""Tell us once: where one report's time goes, step by step (BENCHMARKS.md section 11).

What it measures
    The end-to-end run of bench_tell_us_once (the registrar's POST to the seventh
    receiver, the exchange, one delivery worker and the receivers in one process), one
    report at a time, with each step timed in the process: the services' and adapters'
    methods wrapped to note when they start and end. Medians and p99 in milliseconds, from
    the registrar's POST unless a step's own length. A step a path does not take (the ring
    and claim when deliveries are claimed at intake; the NOTIFY on SQLite) shows 0.
    The wrapping adds a little to each step; the ordering and the sizes are what count.

How to run
    uv run python -m benchmarks.bench_tell_us_once_steps            # 100 reports, both
    uv run python -m benchmarks.bench_tell_us_once_steps 40 PostgreSQL
"""

from __future__ import annotations

import inspect
import itertools
import statistics
import sys
import time
from contextlib import ExitStack
from typing import Any

import httpx

from benchmarks import bench_tell_us_once as bench
from onceonly.adapters import webhooks
from onceonly.adapters.db import doorbell as db_doorbell
from onceonly.adapters.db.migrate import upgrade
from onceonly.adapters.doorbell import InProcessDoorbell
from onceonly.bootstrap import bootstrap
from onceonly.demo.seed import build_world
from onceonly.demo.stores import TOLD_OF_A_DEATH, linked_people
from onceonly.entrypoints.api.app import create_app
from onceonly.entrypoints.api.server import running
from onceonly.services.delivery import DeliveryService
from onceonly.services.life_events import LifeEventService

MARKS: list[tuple[str, float]] = []  # (what, when) for the report under way


def mark(name: str) -> None:
    MARKS.append((name, time.perf_counter()))


def first(name: str, since: float = 0.0) -> float | None:
    return next((at for what, at in MARKS if what == name and at >= since), None)


def timed(owner: Any, attribute: str, name: str) -> None:
    if not hasattr(owner, attribute):
        return  # a step this tree has not
    original = getattr(owner, attribute)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        mark(f"{name}.start")
        try:
            return original(*args, **kwargs)
        finally:
            mark(f"{name}.end")

    async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
        mark(f"{name}.start")
        try:
            return await original(*args, **kwargs)
        finally:
            mark(f"{name}.end")
    setattr(owner, attribute, async_wrapper if inspect.iscoroutinefunction(original)
            else wrapper)


def timed_transactions(service: Any, name: str) -> None:
    factory = service.uows

    class Timed:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.uow = factory(*args, **kwargs)
            self.kind = "write" if kwargs.get("write") else "read"

        def __enter__(self) -> Any:
            mark(f"{name}.{self.kind}.start")
            return self.uow.__enter__()

        def __exit__(self, *failure: Any) -> Any:
            try:
                return self.uow.__exit__(*failure)
            finally:
                mark(f"{name}.{self.kind}.end")
    service.uows = Timed


def span(start: str, end: str, since: float = 0.0) -> float:
    began = first(start, since)
    ended = first(end, began or since) if began is not None else None
    return (ended - began) * 1000 if began is not None and ended is not None else 0.0


def steps(t0: float, answered: float, arrived: list[float]) -> dict[str, float]:
    rung = first("ring_local.end")
    committed = first("intake.write.end") or t0
    since = lambda at: (at - t0) * 1000 if at else 0.0  # noqa: E731
    return {
        "POST to the use case": since(first("use_case.start")),
        "intake, reading transaction": span("intake.read.start", "intake.read.end"),
        "intake, writing transaction": span("intake.write.start", "intake.write.end"),
        "  of which sealing": span("seal.start", "seal.end"),
        "report committed": since(committed),
        "NOTIFY (after the local ring)": span("ring_local.end", "ring.end"),
        "registrar answered": since(answered),
        "ring to claim": span("ring_local.end", "claim.start", rung) if rung else 0.0,
        "the claim (its transaction, opening, signing)": (
            span("claim.start", "claim.end", rung) if rung else 0.0),
        "signing what was handed over": span("sign.start", "sign.end"),
        "first POST leaves": since(first("send.start")),
        "first receiver has it": since(min(arrived)),
        "last receiver has it": since(max(arrived)),
        "outcome writes (count)": sum(what == "settle.start" for what, _ in MARKS),
    }


def run(backend: str, reports: int) -> None:
    with bench.BACKENDS[backend]() as (url, _prefix), ExitStack() as stack:
        exchange = bootstrap(url)
        stack.callback(exchange.close)
        upgrade(exchange.engine)
        world = build_world(exchange, url, people=bench.LATENCY_PEOPLE)
        people = itertools.cycle(list(linked_people(exchange.engine, bench.LATENCY_PEOPLE,
                                                    TOLD_OF_A_DEATH)))
        timed_transactions(exchange.life_events, "intake")
        base = stack.enter_context(running(create_app(exchange)))
        arrivals, _ = bench.receivers_listening(exchange, world, base, stack)
        client = stack.enter_context(httpx.Client(base_url=base, timeout=30, headers={
            "Authorization": f"Bearer {world.token('officer:GOV/GRO')}"}))
        rows = []
        for n in range(reports + 3):  # the first three warm up
            MARKS.clear()
            t0 = time.perf_counter()
            answer = client.post("/v1/events", json=bench.death(next(people), f"steps-{n}"))
            assert answer.status_code == 202, answer.text
            answered = time.perf_counter()
            report_id = answer.json()["report_id"]
            bench.wait_for_arrivals(arrivals, report_id, 7)
            bench.wait_for_outcomes(exchange, report_id, 7)
            time.sleep(0.02)  # an idle poll's claim ends before the next report
            rows.append(steps(t0, answered, arrivals.times[report_id]))
    rows = rows[3:]
    print(f"{backend}, {reports} reports: median (p99) in ms")
    for step in rows[0]:
        values = [row[step] for row in rows]
        print(f"  {step:<48} {statistics.median(values):7.2f}  "
              f"({bench.percentile(values, 0.99):7.2f})")


def main(argv: list[str]) -> int:
    timed(LifeEventService, "_report", "use_case")
    timed(LifeEventService, "_seal", "seal")
    timed(InProcessDoorbell, "ring", "ring_local")
    timed(db_doorbell.PostgresDoorbell, "ring", "ring")
    timed(DeliveryService, "claim", "claim")
    timed(DeliveryService, "sign", "sign")
    timed(DeliveryService, "settle", "settle")
    timed(webhooks.AiohttpTransport, "send", "send")
    reports = int(argv[0]) if argv else 100
    for backend in argv[1:] or list(bench.BACKENDS):
        run(backend, reports)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
