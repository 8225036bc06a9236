"""A unit of work over the fake data: it works on a copy, and commit puts the copy in
place; left without a commit, it changes nothing (as a rolled-back transaction)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime
from typing import Self

from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity
from onceonly.domain.reasons import Reason
from tests.fakes.accounts import (
    FakeCitizenAccounts,
    FakeCitizenLanguages,
    FakeSignInThrottle,
    FakeWebSessions,
)
from tests.fakes.accuracy import FakeChallenges
from tests.fakes.agreements import FakeAgreements
from tests.fakes.anomaly import FakeActivity, FakeAlerts
from tests.fakes.audit import FakeAuditLog
from tests.fakes.bulk import FakeBulkExtracts
from tests.fakes.catalogue import FakeCatalogue
from tests.fakes.consents import FakeConsents
from tests.fakes.data import FakeData
from tests.fakes.datasets import FakeDatasets
from tests.fakes.identity import FakeIdentities, FakePersonIndex
from tests.fakes.keys import FakeDataKeys, FakeStore
from tests.fakes.kill_switch import FakeKillSwitches
from tests.fakes.life_events import FakeLifeEvents
from tests.fakes.org_keys import FakeOrgKeys
from tests.fakes.principals import FakePrincipals
from tests.fakes.queries import FakeReleases, FakeUsage


class FakeUnitOfWork:
    def __init__(self, factory: FakeUnitOfWorkFactory, write: bool) -> None:
        self.factory = factory
        self.write = write
        self.committed = False

    def __enter__(self) -> Self:
        self.data = data = copy.deepcopy(self.factory.data)
        self.agreements = FakeAgreements(data)
        self.catalogue = FakeCatalogue(data)
        self.people = FakePersonIndex(data)
        self.identities = FakeIdentities(data)
        self.principals = FakePrincipals(data)
        self.usage = FakeUsage(data)
        self.activity = FakeActivity(data)
        self.alerts = FakeAlerts(data)
        self.audit = FakeAuditLog(data)
        self.releases = FakeReleases(data, self.usage, self.activity, self.audit)
        self.kill_switches = FakeKillSwitches(data)
        self.bulk = FakeBulkExtracts(data)
        self.challenges = FakeChallenges(data)
        self.accounts = FakeCitizenAccounts(data)
        self.sessions = FakeWebSessions(data)
        self.throttle = FakeSignInThrottle(data)
        self.languages = FakeCitizenLanguages(data)
        self.consents = FakeConsents(data)
        self.life_events = FakeLifeEvents(data)
        self.data_keys = FakeDataKeys(self.factory.keys.rows, self.write)
        self.org_keys = FakeOrgKeys(data)
        self.datasets = FakeDatasets(data)
        return self

    def begin_writing(self) -> None:
        """What was written and not committed is given up, as a rollback would."""
        self.write = True
        self.__enter__()

    def commit_release(self, agreement: Agreement, day: date, person_key: str | None,
                       note: Activity, consumer_id: str, entry: AuditEntry, at: datetime,
                       also: Callable[[], None] | None = None) -> Reason | int:
        self.begin_writing()
        released = self.releases.release(agreement, day, person_key, note, consumer_id,
                                         entry, at)
        if isinstance(released, Reason):
            return released
        if also is not None:
            also()
        self.commit()
        return released

    def commit(self) -> None:
        assert self.write, "a read-only unit of work was committed"
        self.data.standing += 1
        self.factory.data = self.data
        self.committed = True

    def __exit__(self, *exc: object) -> None:
        pass


class FakeUnitOfWorkFactory:
    """Holds the committed state (`data`): tests arrange it, and read it afterwards."""

    def __init__(self, data: FakeData | None = None) -> None:
        self.data = data or FakeData()
        # The data keys, shared with Envelopes(..., store=factory.keys): a key made in a unit
        # of work is kept whether or not it commits (a key unused is harmless).
        self.keys = FakeStore()
        self.opened: list[FakeUnitOfWork] = []

    def __call__(self, *, write: bool = False, transaction: bool = True) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self, write)
        self.opened.append(uow)
        return uow
