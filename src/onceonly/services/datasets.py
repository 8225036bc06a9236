"""Publishing datasets: a provider's guardian describes a dataset under one of its own
systems (its fields, the derived answers it offers, whether it is a register of life
events, and the connector to its store), the connector is tried once against the store,
and the dataset is stored as its next version. A version that removes or retypes a field an
agreement in force uses is refused, naming the agreements. Each publication is audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from onceonly.audit.entries import AuditEntry
from onceonly.domain.agreements import agreements_using
from onceonly.domain.catalogue import Dataset, FieldSpec, changed_fields, check_fields
from onceonly.domain.errors import conflict, forbidden, invalid, not_found
from onceonly.domain.life_events import EVENT_TYPES
from onceonly.domain.organisations import Principal, Role, parse_system_id
from onceonly.domain.transforms import TRANSFORMS
from onceonly.services.ports.clock import Clock
from onceonly.services.ports.connectors import Connectors, ConnectorUnusable
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


LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class DatasetService:
    def __init__(self, uows: UnitOfWorkFactory[DatasetsUnitOfWork], connectors: Connectors,
                 clock: Clock, connector_hosts: frozenset[str] = LOOPBACK) -> None:
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
                            "connector": str(publication.connector.get("kind", ""))}), now)
                uow.commit()
        return dataset

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
        if actor.role is not Role.ADMIN and (actor.role is not Role.GUARDIAN
                                             or actor.org_id != owner):
            raise forbidden("not_your_organisation", f"{system_id} is a system of {owner}: "
                            f"only a data guardian of {owner} publishes under it")
        check_fields(publication.fields)
        if not publication.title.strip():
            raise invalid("title_required", "a dataset needs a title")
        if not uow.datasets.known_scheme(publication.subject_scheme):
            raise invalid("unknown_scheme",
                          f"no identifier scheme {publication.subject_scheme!r}")
        _check_offers(publication.offers, publication.fields)
        event_type = self._event_type(uow, system_id, publication.event_types)
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

    def _try(self, dataset: Dataset, config: Mapping[str, Any]) -> None:
        """Try the connector once against the provider's store."""
        try:
            try:
                connector = self.connectors.for_dataset(dataset.id, config)
            except (AttributeError, KeyError, TypeError, ValueError) as problem:
                raise invalid("connector_invalid", "the connector's configuration is not "
                              f"usable: {_words(problem)}") from None
            connector.check([f.name for f in dataset.fields])
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
