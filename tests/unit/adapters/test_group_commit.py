"""SQLite's group commit, its batching alone: answers run on one event loop, their commits
and the syncs written to one log, with a recorder in place of the WAL's fdatasync."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from onceonly.adapters.db.group_commit import GroupCommit


class Disk:
    """Stands for the WAL: records each sync's start and end in the shared log."""

    def __init__(self, log: list[tuple[str, Any]], during: Any = None, fail: bool = False):
        self.log = log
        self.syncs = 0
        self.during = during  # called mid-sync, as a request arriving then would be
        self.fail = fail

    def __call__(self) -> None:
        self.syncs += 1
        self.log.append(("sync started", self.syncs))
        if self.during is not None:
            self.during()
        if self.fail:
            raise OSError(5, "Input/output error")
        self.log.append(("sync ended", self.syncs))


def commit(group: GroupCommit, log: list[tuple[str, Any]], name: str,
           info: dict[str, Any] | None = None) -> str:
    """What a use case's write does, as the engine sees it: a transaction begins (the group
    chooses its synchronous setting) and commits."""
    group.before_begin({} if info is None else info, lambda _sql: None, True)
    log.append(("committed", name))
    return name


async def answer(group: GroupCommit, log: list[tuple[str, Any]], name: str) -> None:
    await group.run(lambda: commit(group, log, name))
    log.append(("released", name))


def assert_each_released_after_a_sync_begun_after_its_commit(log: list[tuple[str, Any]]):
    for i, (what, name) in enumerate(log):
        if what != "released":
            continue
        committed = log.index(("committed", name))
        started = [log[j][1] for j in range(committed, i) if log[j][0] == "sync started"]
        ended = {log[j][1] for j in range(committed, i) if log[j][0] == "sync ended"}
        assert any(sync in ended for sync in started), f"{name} released unsynced: {log}"


def test_answers_committed_together_share_one_sync():
    log: list[tuple[str, Any]] = []
    disk = Disk(log)
    group = GroupCommit(disk)

    async def main() -> None:
        await asyncio.gather(*(answer(group, log, f"answer {n}") for n in range(7)))

    asyncio.run(main())
    assert disk.syncs == 1
    assert [what for what, _ in log] == ["committed"] * 7 + ["sync started", "sync ended"] + [
        "released"] * 7
    assert_each_released_after_a_sync_begun_after_its_commit(log)


def test_an_answer_committed_after_a_sync_began_waits_for_the_next():
    log: list[tuple[str, Any]] = []
    late: list[asyncio.Task[None]] = []

    def a_request_arrives() -> None:  # mid-sync: it runs once the loop is free again
        if not late:
            late.append(asyncio.get_running_loop().create_task(answer(group, log, "late")))

    disk = Disk(log, during=a_request_arrives)
    group = GroupCommit(disk)

    async def main() -> None:
        await asyncio.gather(answer(group, log, "early 1"), answer(group, log, "early 2"))
        await late[0]

    asyncio.run(main())
    assert disk.syncs == 2
    assert log.index(("committed", "late")) > log.index(("sync started", 1))
    assert log.index(("released", "late")) > log.index(("sync ended", 2))
    assert_each_released_after_a_sync_begun_after_its_commit(log)


def test_batches_follow_one_another_under_steady_load():
    log: list[tuple[str, Any]] = []
    disk = Disk(log)
    group = GroupCommit(disk)

    async def client(number: int) -> None:
        for n in range(5):
            await answer(group, log, f"client {number} answer {n}")
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(client(number) for number in range(4)))

    asyncio.run(main())
    assert disk.syncs < 20  # 20 answers, fewer syncs: they were shared
    assert_each_released_after_a_sync_begun_after_its_commit(log)


def test_an_answer_that_began_no_transaction_waits_for_no_sync():
    disk = Disk([])
    group = GroupCommit(disk)
    assert asyncio.run(group.run(lambda: "from memory")) == "from memory"
    assert disk.syncs == 0


def test_a_refusal_after_its_audit_entry_is_committed_waits_for_the_sync_too():
    log: list[tuple[str, Any]] = []
    group = GroupCommit(Disk(log))

    def refused() -> None:
        commit(group, log, "refusal")
        raise PermissionError("refused")

    async def main() -> None:
        try:
            await group.run(refused)
        except PermissionError:
            log.append(("released", "refusal"))

    asyncio.run(main())
    assert [what for what, _ in log] == ["committed", "sync started", "sync ended", "released"]


def test_no_answer_of_a_batch_is_released_when_its_sync_fails():
    log: list[tuple[str, Any]] = []
    group = GroupCommit(Disk(log, fail=True))

    async def main() -> list[Any]:
        return await asyncio.gather(*(answer(group, log, f"answer {n}") for n in range(3)),
                                    return_exceptions=True)

    outcomes = asyncio.run(main())
    assert all(isinstance(outcome, OSError) for outcome in outcomes)
    assert not [entry for entry in log if entry[0] == "released"]


def test_inside_a_run_commits_defer_their_sync_and_outside_they_sync_at_commit():
    group = GroupCommit(Disk([]))
    info: dict[str, Any] = {}
    pragmas: list[str] = []
    group.before_begin(info, pragmas.append, True)  # outside: FULL, as the connection opened
    assert pragmas == []

    async def main() -> None:
        await group.run(lambda: group.before_begin(info, pragmas.append, True))
        await group.run(lambda: group.before_begin(info, pragmas.append, True))  # still NORMAL

    asyncio.run(main())
    assert pragmas == ["PRAGMA synchronous=NORMAL"]
    group.before_begin(info, pragmas.append, True)
    assert pragmas == ["PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL"]


def test_an_answer_that_only_read_waits_for_no_sync_and_one_that_wrote_does():
    disk = Disk([])
    group = GroupCommit(disk)
    info: dict[str, Any] = {}
    pragmas: list[str] = []

    def read() -> str:
        group.before_begin(info, pragmas.append, False)  # BEGIN (deferred)
        return "read"

    def read_then_write() -> str:
        read()
        group.before_begin(info, pragmas.append, True)  # BEGIN IMMEDIATE
        return "written"

    assert asyncio.run(group.run(read)) == "read"
    assert disk.syncs == 0 and pragmas == []
    assert asyncio.run(group.run(read_then_write)) == "written"
    assert disk.syncs == 1 and pragmas == ["PRAGMA synchronous=NORMAL"]
    # A deferred transaction on the same connection commits under FULL again: a write
    # made in one, owing no sync, is synced at its commit.
    assert asyncio.run(group.run(read)) == "read"
    assert disk.syncs == 1 and pragmas[-1] == "PRAGMA synchronous=FULL"


def test_another_databases_transaction_inside_a_run_syncs_at_its_own_commit():
    ours, theirs = GroupCommit(Disk([])), GroupCommit(Disk([]))
    pragmas: list[str] = []
    asyncio.run(ours.run(lambda: theirs.before_begin({}, pragmas.append, True)))
    assert pragmas == []  # theirs stays FULL: our sync would not cover its file


@pytest.mark.parametrize("answers", [1, 16])
def test_every_answer_is_released(answers: int):
    log: list[tuple[str, Any]] = []
    group = GroupCommit(Disk(log))

    async def main() -> None:
        await asyncio.gather(*(answer(group, log, f"answer {n}") for n in range(answers)))

    asyncio.run(main())
    assert sum(1 for what, _ in log if what == "released") == answers
