"""The SQL unit of work builds each repository on first use, once, on its own
connection; a release's writes share the unit of work's usage, activity and audit log."""

from __future__ import annotations

from sqlalchemy import create_engine

from onceonly.adapters.db.unit_of_work import SqlUnitOfWork


def test_repositories_are_built_when_first_used_and_kept_for_the_unit_of_work() -> None:
    engine = create_engine("sqlite://")
    try:
        with SqlUnitOfWork(engine) as uow:
            assert "agreements" not in vars(uow)  # nothing built for entering
            first = uow.agreements
            assert uow.agreements is first
            assert uow.agreements.conn is uow.conn
            releases = uow.releases
            assert (releases.usage, releases.activity, releases.audit) == (
                uow.usage, uow.activity, uow.audit)
            assert "kill_switches" not in vars(uow)
        with SqlUnitOfWork(engine) as again:  # another unit of work: its own repositories
            assert again.agreements is not first and again.agreements.conn is again.conn
    finally:
        engine.dispose()
