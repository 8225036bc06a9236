"""What the fake database holds: plain dicts and lists, one attribute a table (or a few)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from onceonly.audit.entries import AuditRecord
from onceonly.domain.accuracy import Challenge
from onceonly.domain.agreements import Agreement
from onceonly.domain.anomaly import Activity, Alert, Rule
from onceonly.domain.bulk import BulkExtract
from onceonly.domain.catalogue import Dataset
from onceonly.domain.consent import Consent
from onceonly.domain.identity import LinkCandidate
from onceonly.domain.kill_switch import KillSwitch
from onceonly.domain.life_events import Delivery, Report
from onceonly.domain.org_keys import OrgKey
from onceonly.domain.organisations import Organisation, Principal
from onceonly.services.ports.accounts import CitizenAccount


@dataclass
class Token:
    principal_id: str
    expires_at: datetime
    revoked_at: datetime | None = None


@dataclass
class FakeData:
    organisations: dict[str, Organisation] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)  # by dataset
    agreements: dict[int, Agreement] = field(default_factory=dict)
    # The person index: (scheme, value) -> person key; who names people by which scheme.
    schemes: set[str] = field(default_factory=set)
    links: dict[tuple[str, str], str] = field(default_factory=dict)
    org_schemes: set[tuple[str, str]] = field(default_factory=set)
    pseudonyms: dict[str, tuple[str, str]] = field(default_factory=dict)  # -> consumer, person
    candidates: dict[int, LinkCandidate] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)  # by digest
    # The standing version: the fake moves it on every committed write, a superset of
    # what the database's triggers move it on.
    standing: int = 1
    accounts: dict[str, CitizenAccount] = field(default_factory=dict)  # by login
    sessions: dict[str, Any] = field(default_factory=dict)  # by digest (fakes/accounts.py)
    languages: dict[str, str] = field(default_factory=dict)  # by person key
    throttle: dict[str, Any] = field(default_factory=dict)  # sign-in counters, by key
    # Use limits: queries a day, the people asked about a day, uses in all.
    queries: defaultdict[tuple[int, date], int] = field(default_factory=lambda: defaultdict(int))
    people_asked: defaultdict[tuple[int, date], set[str]] = field(
        default_factory=lambda: defaultdict(set))
    uses: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    activity: dict[int, tuple[Activity, str]] = field(default_factory=dict)  # with the consumer
    watermark: int = 0  # the last activity the anomaly detector read
    # (consumer, officer or None, provider or None: the operator's) -> a threshold
    anomaly_rules: dict[tuple[str, str | None, str | None], list[Rule]] = field(
        default_factory=dict)
    alerts: dict[int, Alert] = field(default_factory=dict)
    suspended: dict[tuple[str, str], int] = field(default_factory=dict)  # -> the alert
    audit: list[AuditRecord] = field(default_factory=list)
    bulk: dict[int, BulkExtract] = field(default_factory=dict)
    kill_switches: dict[int, KillSwitch] = field(default_factory=dict)
    consents: dict[str, tuple[Consent, str, str | None]] = field(default_factory=dict)
    challenges: dict[int, Challenge] = field(default_factory=dict)
    corrections: dict[int, int] = field(default_factory=dict)  # -> its challenge
    notices: dict[int, dict[str, Any]] = field(default_factory=dict)  # correction notices
    # Tell us once: reports, deliveries with their sealed notifications, endpoints.
    reports: dict[str, tuple[Report, Any]] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    sealed: dict[str, Any] = field(default_factory=dict)  # by delivery
    claims: dict[str, str] = field(default_factory=dict)  # delivery -> its claim's token
    hidden_until: dict[str, datetime] = field(default_factory=dict)  # delivery -> lease end
    endpoints: dict[str, str] = field(default_factory=dict)
    # Organisations' own keys (by kid), the hosted keys' kids (-> organisation), and each
    # dataset version as published (with when and by whom).
    org_keys: dict[str, OrgKey] = field(default_factory=dict)
    hosted_keys: dict[str, str] = field(default_factory=dict)
    published: list[tuple[Dataset, datetime, str]] = field(default_factory=list)
    last_id: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    def next_id(self, table: str) -> int:
        self.last_id[table] += 1
        return self.last_id[table]
