"""Publishing datasets: a provider's guardian describes a dataset under one of its own
systems (its fields, the derived answers it offers, whether it is a register of life
events, and the connector to its store), the connector is checked against the provider's
OpenAPI document when one is attached and tried once against the store, and the dataset is
stored as its next version. A version that removes or retypes a field an agreement in force
uses is refused, naming the agreements. Each publication is audited. A provider's guardian
may also read one person's record through the connector, to see what each agreement in
force would release from it (audited too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from onceonly.audit.entries import AuditEntry
from onceonly.crypto.canonical import sha256_hex
from onceonly.domain.agreements import Agreement, agreements_using
from onceonly.domain.catalogue import Dataset, FieldSpec, changed_fields, check_fields
from onceonly.domain.errors import conflict, forbidden, invalid, not_found
from onceonly.domain.life_events import EVENT_TYPES
from onceonly.domain.organisations import Principal, Role, parse_system_id
from onceonly.domain.policy import Deny
from onceonly.domain.transforms import TRANSFORMS, minimise
from onceonly.services.identity import name_subject
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.connectors import (
    Connectors,
    ConnectorUnusable,
    ContractCheck,
    ContractMismatch,
    ProviderConnector,
)
from onceonly.services.ports.datasets import DatasetsUnitOfWork
from onceonly.services.ports.unit_of_work import UnitOfWorkFactory
from onceonly.services.refusals import refusing


@dataclass(frozen=True)
class Publication:
    """A dataset as its provider describes it. `connector` is passed to the Connectors port
    as it is (its `kind` chooses the connector)."""

    system_id: str  # the dataset's id: the provider's system it is published under
    title: str
    subject_scheme: str
    fields: tuple[FieldSpec, ...]
    connector: Mapping[str, Any]
    offers: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()  # set for a register of life events
    openapi: Mapping[str, Any] | None = None  # the provider's own API document (HTTP)


@dataclass(frozen=True, slots=True)
class WouldRelease:
    """What one agreement in force would release from the record read."""

    agreement: Agreement
    released: dict[str, Any]


class PublishingConnectors(Connectors, ContractCheck, Protocol):
    """The connectors, and the check of an HTTP connector against an OpenAPI document."""


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class DatasetService:
    def __init__(self, uows: UnitOfWorkFactory[DatasetsUnitOfWork],
                 connectors: PublishingConnectors, clock: Clock,
                 connector_hosts: frozenset[str] = LOOPBACK) -> None:
        self.uows = uows
        self.connectors = connectors
        self.clock = clock
        self.connector_hosts = connector_hosts  # the hosts an http connector may reach

    def publish(self, actor: Principal, publication: Publication) -> Dataset:
        """Publish a dataset, or its next version; the connector is tried first."""
        with refusing(self.uows, self.clock, "dataset.publish", actor,
                      detail={"dataset": publication.system_id[:100]}) as refusal:
            with self.uows() as uow:
                dataset = self._described(uow, actor, publication)
            refusal.note(detail={"dataset": dataset.id, "version": dataset.version})
            _check_host(publication.connector, self.connector_hosts)
            if publication.openapi is not None:
                self._check_contract(dataset, publication.connector, publication.openapi)
            self._try(dataset, publication.connector)
            now = self.clock.now()
            with self.uows(write=True) as uow:
                current = uow.catalogue.dataset(dataset.id)
                self._check_change(uow, current, dataset, now)
                if not uow.datasets.publish(dataset, publication.connector, now, actor.id):
                    raise conflict("concurrent_update", f"another version of {dataset.id} "
                                   "was published meanwhile; read it and retry")
                uow.audit.record(AuditEntry(
                    "dataset.publish", "done", actor.id, actor.org_id,
                    provider_id=dataset.provider_id, fields=tuple(f.name for f in dataset.fields),
                    detail={"dataset": dataset.id, "version": dataset.version,
                            "offers": list(dataset.offers), "event_type": dataset.event_type,
                            "connector": str(publication.connector.get("kind", "")),
                            **({"openapi": sha256_hex(dict(publication.openapi))}
                               if publication.openapi is not None else {})}), now)
                uow.commit()
        return dataset

    def test_read(self, actor: Principal, dataset_id: str, scheme: str,
                  value: str) -> list[WouldRelease]:
        """Read one person's record through the dataset's connector (the fields the
        agreements in force take from it) and what each of them would release from it."""
        with refusing(self.uows, self.clock, "dataset.test", actor,
                      detail={"dataset": dataset_id[:100]}) as refusal:
            now = self.clock.now()
            with self.uows() as uow:
                dataset = uow.catalogue.dataset(dataset_id)
                if dataset is None:
                    raise not_found("dataset_unknown", f"no dataset {dataset_id}")
                _check_publisher(actor, dataset.provider_id, dataset_id)
                found = name_subject(uow, None, dataset.provider_id, scheme, value,
                                     dataset.subject_scheme)
                if isinstance(found, Deny):
                    raise forbidden(found.reason.value, found.detail)
                if found is None or found.provider_value is None:
                    raise not_found("subject_unknown", f"{dataset.provider_id} holds no "
                                    f"{dataset.subject_scheme} for {scheme}:{value}")
                in_force = [a for a in uow.datasets.agreements_on(dataset_id)
                            if a.in_force_at(now)]
                config = uow.catalogue.connector_config(dataset_id)
            refusal.note(person_key=found.person_key, provider_id=dataset.provider_id)
            wanted = list(dict.fromkeys(g.source for a in in_force for g in a.grants))
            record = self._connector(dataset_id, config).fetch(found.provider_value, wanted)
            if record is None:
                raise not_found("record_unknown", f"{dataset.provider_id} holds no record "
                                "of the person")
            would = [WouldRelease(a, minimise(a.grants, record, now.date())) for a in in_force]
        with self.uows(write=True) as uow:
            uow.audit.record(AuditEntry(
                "dataset.test", "done", actor.id, actor.org_id,
                provider_id=dataset.provider_id, person_key=found.person_key,
                fields=tuple(wanted), detail={"dataset": dataset_id, "agreements": [
                    a.agreement.id for a in would]}), now)
            uow.commit()
        return would

    def _check_contract(self, dataset: Dataset, config: Mapping[str, Any],
                        document: Mapping[str, Any]) -> None:
        """The connector against the provider's own OpenAPI document: refused at the first
        field (or `url`) they disagree on."""
        if config.get("kind") != "http":
            raise ContractMismatch("kind", "an OpenAPI document describes an HTTP API: only "
                                   "an HTTP connector is checked against one")
        types = {spec.name: spec.type.value for spec in dataset.fields}
        try:
            self.connectors.check_contract(config, document, types)
        except (AttributeError, KeyError, TypeError, ValueError) as problem:
            raise ContractMismatch("url", "the document cannot be read as an OpenAPI "
                                   f"document: {_words(problem)}") from None

    def connector_of(self, dataset_id: str) -> Mapping[str, Any]:
        """A published dataset's connector configuration, as its last version stored it."""
        with self.uows() as uow:
            return dict(uow.catalogue.connector_config(dataset_id))

    def _described(self, uow: DatasetsUnitOfWork, actor: Principal,
                   publication: Publication) -> Dataset:
        """The dataset the publication describes, as its next version, once each part of
        it is checked (who publishes, fields, scheme, offers, event types)."""
        system_id = parse_system_id(publication.system_id)
        owner = uow.datasets.system_owner(system_id)
        if owner is None:
            raise not_found("system_unknown", f"no system {system_id} in this exchange")
        _check_publisher(actor, owner, system_id)
        check_fields(publication.fields)
        if not publication.title.strip():
            raise invalid("title_required", "a dataset needs a title")
        if not uow.datasets.known_scheme(publication.subject_scheme):
            raise invalid("unknown_scheme",
                          f"no identifier scheme {publication.subject_scheme!r}")
        _check_offers(publication.offers, publication.fields)
        event_type = self._event_type(uow, system_id, publication.event_types)
        if publication.connector.get("kind") == "events" and event_type is None:
            raise invalid("events_connector_without_event_type", "an events connector is for "
                          "a register of life events: name the event type it emits")
        current = uow.catalogue.dataset(system_id)
        return Dataset(system_id, owner, publication.title.strip(), publication.subject_scheme,
                       publication.fields, event_type, tuple(publication.offers),
                       (current.version if current else 0) + 1)

    @staticmethod
    def _event_type(uow: DatasetsUnitOfWork, dataset_id: str,
                    event_types: Sequence[str]) -> str | None:
        if not event_types:
            return None
        if len(event_types) > 1:
            raise invalid("one_event_type_per_register", "a register emits one event type; "
                          "publish one register (under its own system) for each")
        event_type = event_types[0]
        if event_type not in EVENT_TYPES:
            raise invalid("event_type_unknown", f"no event type {event_type!r}; known: "
                          f"{', '.join(sorted(EVENT_TYPES))}")
        holder = uow.datasets.register_of(event_type)
        if holder is not None and holder != dataset_id:
            raise conflict("already_exists", f"{holder} is the register of {event_type}")
        return event_type

    def _connector(self, dataset_id: str, config: Mapping[str, Any]) -> ProviderConnector:
        try:
            return self.connectors.for_dataset(dataset_id, config)
        except (AttributeError, KeyError, TypeError, ValueError) as problem:
            raise invalid("connector_invalid", "the connector's configuration is not "
                          f"usable: {_words(problem)}") from None

    def _try(self, dataset: Dataset, config: Mapping[str, Any]) -> None:
        """Try the connector once against the provider's store."""
        try:
            self._connector(dataset.id, config).check([f.name for f in dataset.fields])
        except ConnectorUnusable as problem:
            raise invalid("connector_unusable", f"the connector of {dataset.id} cannot "
                          f"serve it: {problem}. Nothing was published") from None

    @staticmethod
    def _check_change(uow: DatasetsUnitOfWork, current: Dataset | None, dataset: Dataset,
                      now: Any) -> None:
        if (current.version if current else 0) + 1 != dataset.version:
            raise conflict("concurrent_update", f"another version of {dataset.id} was "
                           "published meanwhile; read it and retry")
        if current is None:
            return
        changed = changed_fields(current, dataset.fields)
        using = agreements_using(uow.datasets.agreements_on(dataset.id), changed, now)
        if using:
            raise conflict("field_in_use", f"this version removes or retypes "
                           f"{', '.join(changed)}, which agreements in force use: "
                           f"{', '.join(str(a.id) for a in using)}. Nothing was published")


def _check_publisher(actor: Principal, owner: str, system_id: str) -> None:
    """A data guardian of the system's organisation (or the operator) acts on its datasets."""
    if actor.role is not Role.ADMIN and (actor.role is not Role.GUARDIAN
                                         or actor.org_id != owner):
        raise forbidden("not_your_organisation", f"{system_id} is a system of {owner}: "
                        f"only a data guardian of {owner} publishes under it or tries it")


def _check_offers(offers: Sequence[str], fields: Sequence[FieldSpec]) -> None:
    """Each offer is a derived answer of the transform registry that applies to one of the
    dataset's fields."""
    types = {spec.type for spec in fields}
    for name in offers:
        transform = TRANSFORMS.get(name)
        if transform is None or not transform.derived:
            derived = sorted(n for n, t in TRANSFORMS.items() if t.derived)
            raise invalid("unknown_transform", f"{name!r} is not a derived answer; known: "
                          f"{', '.join(derived)}")
        if transform.accepts is not None and not transform.accepts & types:
            raise invalid("transform_mismatch", f"{name!r} applies to no field of this "
                          "dataset")
    if len(set(offers)) != len(offers):
        raise invalid("duplicate_offer", "a derived answer is offered twice")


def _check_host(config: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """An http connector reaches only a host the operator allowed (ONCEONLY_CONNECTOR_HOSTS):
    a dataset cannot make the exchange call anywhere else on its behalf."""
    if config.get("kind") != "http":
        return
    try:
        host = (urlsplit(str(config.get("url", ""))).hostname or "").lower()
    except ValueError:
        host = ""
    if host not in allowed:
        raise invalid("connector_host_not_allowed", f"the connector's host {host or '(none)'!r} "
                      "is not one this exchange's connectors may reach; its operator lists "
                      "them in ONCEONLY_CONNECTOR_HOSTS. Nothing was published")


def _words(problem: Exception) -> str:
    if isinstance(problem, KeyError):
        return f"it lacks {problem.args[0]!r}" if problem.args else "it lacks a setting"
    return str(problem)
