"""The exchange's settings: one model (pydantic-settings), read from the command line, the
environment (`ONCEONLY_*`), secrets in files (`ONCEONLY_*_FILE`), an optional TOML file
(`--config FILE` / `ONCEONLY_CONFIG`) and the defaults, in that order. `onceonly config`
shows what is in effect and where each value came from; `docs/configuration.md` is written
from this model (`onceonly config --markdown`).

By concern: the model (model.py), reading it (loading.py), then what each part of the
exchange asks of it (database, audit_log, server, pages) and the reference written from it
(documentation.py); gathered here, so `config.<name>` names any of them."""

from __future__ import annotations

from onceonly.config.audit_log import (
    audit_interval,
    log_origin,
    operator_org,
    timestamp_authorities,
    timestamp_every,
    timestamp_roots_file,
    witness_key_file,
    witness_logs_file,
    witness_name,
    witnesses,
)
from onceonly.config.database import (
    beside_database,
    database_connections,
    database_url,
    master_key_file,
)
from onceonly.config.documentation import (
    reference,
)
from onceonly.config.loading import (
    Loaded,
    SettingsInvalid,
    load,
    read_secret,
    settings,
    shown,
)
from onceonly.config.model import (
    CONFIG_VARIABLE,
    DEFAULT_DATA_DIR,
    DEFAULT_POLICY_URL,
    MASTER_KEY_FILE,
    PREFIX,
    SECRETS,
    SUPPORTED_URLS,
    DatabaseUrlInvalid,
    Settings,
    parse_database_url,
    variable,
)
from onceonly.config.pages import (
    govuk_brand,
    password_sign_in,
    privacy_policy_url,
)
from onceonly.config.server import (
    connector_hosts,
    delivery_lease,
    delivery_retry,
    log_level,
    require_signatures,
    trusted_proxies,
)

__all__ = [
    "DEFAULT_DATA_DIR",
    "MASTER_KEY_FILE",
    "PREFIX",
    "CONFIG_VARIABLE",
    "DEFAULT_POLICY_URL",
    "SUPPORTED_URLS",
    "DatabaseUrlInvalid",
    "parse_database_url",
    "Settings",
    "SECRETS",
    "variable",
    "SettingsInvalid",
    "Loaded",
    "load",
    "settings",
    "shown",
    "read_secret",
    "database_url",
    "database_connections",
    "beside_database",
    "master_key_file",
    "operator_org",
    "audit_interval",
    "timestamp_authorities",
    "timestamp_roots_file",
    "timestamp_every",
    "log_origin",
    "witnesses",
    "witness_key_file",
    "witness_name",
    "witness_logs_file",
    "connector_hosts",
    "log_level",
    "require_signatures",
    "delivery_retry",
    "delivery_lease",
    "trusted_proxies",
    "govuk_brand",
    "privacy_policy_url",
    "password_sign_in",
    "reference",
]
