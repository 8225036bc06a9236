"""The exchange's own tables. No person attributes live here: the person index holds
identifiers only, the audit log holds field names and hashes.

Declared by feature in the modules of this package, on the one `metadata`
(tables/schema.py); gathered here so that `tables.<name>` names any of them."""

from __future__ import annotations

from onceonly.adapters.db.tables.agreements import (
    agreement_transitions,
    agreement_uses,
    agreements,
    bulk_extracts,
    dataset_versions,
    datasets,
    kill_switches,
    person_usage,
    query_usage,
    standing_version,
)
from onceonly.adapters.db.tables.anomaly import (
    activity,
    alerts,
    anomaly_rules,
    detector_state,
    officer_suspensions,
)
from onceonly.adapters.db.tables.audit import (
    audit_counter,
    audit_exports,
    audit_head_cosignatures,
    audit_head_timestamps,
    audit_log,
    audit_nodes,
    audit_retention,
    audit_tree_heads,
    operator_alerts,
    witness_checkpoints,
)
from onceonly.adapters.db.tables.citizens import (
    challenges,
    consents,
    correction_notices,
    corrections,
)
from onceonly.adapters.db.tables.keys import (
    data_keys,
    exchange_secrets,
    organisation_keys,
    request_nonces,
    signing_keys,
)
from onceonly.adapters.db.tables.life_events import (
    deliveries,
    life_event_reports,
    notification_endpoints,
)
from onceonly.adapters.db.tables.members import (
    api_tokens,
    member_events,
    organisations,
    principals,
    systems,
    training_records,
)
from onceonly.adapters.db.tables.person_index import (
    citizen_link_requests,
    identifier_schemes,
    link_candidates,
    organisation_schemes,
    pairwise_pseudonyms,
    person_links,
)
from onceonly.adapters.db.tables.schema import UTCDateTime, metadata
from onceonly.adapters.db.tables.sign_in import (
    citizen_accounts,
    citizen_languages,
    identity_providers,
    provider_people,
    provider_sessions,
    sign_in_attempts,
    sign_in_throttle,
    web_sessions,
)

__all__ = [
    "UTCDateTime",
    "metadata",
    "organisations",
    "member_events",
    "systems",
    "principals",
    "training_records",
    "api_tokens",
    "signing_keys",
    "data_keys",
    "organisation_keys",
    "exchange_secrets",
    "request_nonces",
    "identifier_schemes",
    "organisation_schemes",
    "person_links",
    "pairwise_pseudonyms",
    "link_candidates",
    "citizen_link_requests",
    "datasets",
    "dataset_versions",
    "agreements",
    "agreement_transitions",
    "query_usage",
    "person_usage",
    "agreement_uses",
    "kill_switches",
    "standing_version",
    "bulk_extracts",
    "audit_log",
    "audit_counter",
    "audit_nodes",
    "audit_tree_heads",
    "operator_alerts",
    "audit_head_timestamps",
    "audit_head_cosignatures",
    "witness_checkpoints",
    "audit_exports",
    "audit_retention",
    "activity",
    "anomaly_rules",
    "alerts",
    "detector_state",
    "officer_suspensions",
    "life_event_reports",
    "deliveries",
    "notification_endpoints",
    "consents",
    "challenges",
    "corrections",
    "correction_notices",
    "citizen_accounts",
    "citizen_languages",
    "web_sessions",
    "sign_in_throttle",
    "identity_providers",
    "sign_in_attempts",
    "provider_people",
    "provider_sessions",
]
