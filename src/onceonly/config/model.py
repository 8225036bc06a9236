"""The one settings model: every setting, its default, its check and its description
(docs/configuration.md is written from it), and the database URLs onceonly can use."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATA_DIR = Path("onceonly-data")
MASTER_KEY_FILE = "master-keys.json"
PREFIX = "ONCEONLY_"
CONFIG_VARIABLE = "ONCEONLY_CONFIG"
DEFAULT_POLICY_URL = "https://onceonly.invalid/privacy-notice"

SUPPORTED_URLS = "sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"


class DatabaseUrlInvalid(ValueError):
    """A database URL naming no database onceonly can use; the message says what to give."""


def parse_database_url(raw: str) -> URL:
    """The URL, checked: a SQLite file or a PostgreSQL database reached through psycopg 3."""
    if not raw.strip():
        raise DatabaseUrlInvalid(f"the database URL is empty: give {SUPPORTED_URLS}")
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseUrlInvalid(f"{raw!r} is not a database URL: give {SUPPORTED_URLS}") \
            from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.host or url.username or url.password or url.port:
            raise DatabaseUrlInvalid(f"{raw} names a host: a SQLite URL names a file, "
                                     "sqlite:///relative/path or sqlite:////absolute/path")
        if not url.database or url.database == ":memory:":
            raise DatabaseUrlInvalid(f"{raw} names no file: give the database file's path, "
                                     "sqlite:///relative/path or sqlite:////absolute/path")
    elif backend == "postgresql":
        if url.get_driver_name() != "psycopg":
            raise DatabaseUrlInvalid(f"{raw} asks for the driver {url.get_driver_name()!r}: "
                                     "onceonly reaches PostgreSQL through psycopg 3, "
                                     "postgresql+psycopg://USER@HOST/DB")
    else:
        raise DatabaseUrlInvalid(
            f"{raw}: unsupported database {backend!r}, use {SUPPORTED_URLS}")
    return url


def _proxy(item: str) -> str:
    try:
        return (str(ipaddress.ip_network(item, strict=False)) if "/" in item
                else str(ipaddress.ip_address(item)))
    except ValueError:
        raise ValueError(f"{item!r} is not an IP address or network "
                         "(e.g. 10.0.0.7 or 10.0.0.0/24)") from None


class Settings(BaseSettings):
    """Every setting of the exchange. A field's description is its documentation."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="forbid",
                                      validate_default=True)

    database_url: str | None = Field(
        None, json_schema_extra={"secret": True},
        description="The exchange's database: `sqlite:///FILE` or "
                    "`postgresql+psycopg://USER:PASSWORD@HOST/DB`. Unset: the SQLite file "
                    "`./onceonly-data/exchange.sqlite`. The commands' `--db` overrides it. "
                    "Its password is masked by `onceonly config`.")
    database_connections: int = Field(
        30, ge=1, le=1000,
        description="The most connections one process opens to a server database "
                    "(PostgreSQL): ten kept open, the rest opened under load. Every "
                    "`onceonly serve` and `onceonly worker` process may open this many, and "
                    "each worker one more to listen for reports, so their sum must stay "
                    "below the database's `max_connections`. A request that finds them all "
                    "in use waits up to 30 seconds, then is refused (503 `database_busy`).")
    master_key_file: Path | None = Field(
        None, description="The file of master keys that wrap the data keys (`onceonly keys "
                          "init` makes one). Unset: a file beside the SQLite database, made "
                          "when first needed (for the demo). In production keep it apart "
                          "from the database: whoever has both has the keys.")
    operator_org: str = Field(
        "GOV/EXCHANGE", min_length=1,
        description="The organisation that runs the exchange; its key signs the audit "
                    "log's tree heads.")
    audit_interval: float = Field(
        1.0, ge=0, description="Seconds between integrations of new audit entries under a "
                               "signed tree head; 0 turns it off.")
    require_signatures: str = Field(
        "", description="Whose requests must be signed (RFC 9421): `all` (or `1`, `true`) "
                        "for every caller, a comma-separated list of organisation ids "
                        "(`GOV/DWP,COM/ACME`), or empty (or `0`) for nobody.")
    connector_hosts: str = Field(
        "localhost,127.0.0.1,::1",
        description="The hosts an `http` connector may reach (host names or addresses, "
                    "comma-separated): a dataset whose connector names another is refused "
                    "at publication (`connector_host_not_allowed`). The default is the "
                    "loopback only; list the providers' API hosts.")
    trusted_proxies: str = Field(
        "127.0.0.1,::1",
        description="The proxies (addresses or CIDR networks, comma-separated) whose "
                    "`X-Forwarded-For` and `X-Forwarded-Proto` are believed; empty: none. "
                    "`onceonly serve --forwarded-allow-ips` overrides it.")
    govuk_brand: bool = Field(
        False, description="The service runs on a gov.uk domain: its pages carry the GOV.UK "
                           "crown and the GDS Transport typeface. Off, they use the design "
                           "system without the brand, as its guidance asks.")
    privacy_policy_url: str = Field(
        DEFAULT_POLICY_URL, min_length=1,
        description="The privacy notice that consent receipts point to.")
    delivery_max_attempts: int = Field(
        8, gt=0, description="Webhook delivery attempts before a delivery is "
                             "dead-lettered.")
    delivery_backoff_seconds: float = Field(
        1.0, gt=0, description="The first wait before a failed delivery is retried; it "
                               "doubles each time, with jitter.")
    delivery_backoff_cap_seconds: float = Field(
        300.0, gt=0, description="The longest wait between delivery attempts.")
    delivery_lease_seconds: float = Field(
        30.0, gt=0, description="How long a worker holds the deliveries it took; if it dies, "
                                "others take them after this. Longer than a receiver's "
                                "timeout.")
    tsa_urls: str = Field(
        "", description="The RFC 3161 timestamping authorities that stamp the audit log's "
                        "signed tree heads, separated by commas or spaces, tried in order "
                        "(one answer suffices); empty: none.")
    tsa_roots: Path | None = Field(
        None, description="A PEM file of the certificates the authorities' timestamping "
                          "certificates chain to; every token is checked against them.")
    tsa_every: float = Field(
        0.0, ge=0, description="0 stamps every signed tree head; N > 0 stamps only the "
                               "latest head every N seconds (under load: fewer tokens, each "
                               "covering the heads before it through their chain).")
    log_origin: str = Field(
        "", description="The audit log's name in its checkpoints (C2SP tlog-checkpoint's "
                        "origin line, a schema-less URL such as exchange.example.gov/audit); "
                        "witnesses know the log by it. Empty: `onceonly/` and the "
                        "operator's organisation, in lower case.")
    witnesses: str = Field(
        "", description="The log's witnesses, as `URL VKEY` pairs separated by commas: each "
                        "witness's URL prefix (its add-checkpoint is under it) and its "
                        "verifier key (C2SP signed-note vkey, as `onceonly witness key` "
                        "prints it). Empty: none.")
    witness_key_file: Path | None = Field(
        None, description="This exchange's witness key (PEM, Ed25519, made by `onceonly "
                          "witness key`); set, the exchange is a witness of the logs in "
                          "ONCEONLY_WITNESS_LOGS.")
    witness_name: str = Field(
        "", description="The witness's name in its cosignatures (a schema-less URL). Empty: "
                        "`onceonly/`, the operator's organisation in lower case, `/witness`.")
    witness_logs: Path | None = Field(
        None, description='A JSON file of the logs this witness watches, {"logs": '
                          '[{"origin": ..., "log_org": ..., "jwks": {"keys": [...]}}]}.')
    password_sign_in: bool = Field(
        False, description="Citizens may sign in with a login and password the exchange "
                           "keeps: for the demo only; elsewhere they use GOV.UK One Login.")
    one_login_issuer: str = Field(
        "", description="GOV.UK One Login's issuer (its OpenID provider). Empty: citizens "
                        "cannot sign in through One Login.")
    one_login_client_id: str = Field("", description="The exchange's client id at One Login.")
    one_login_key: str = Field(
        "", description="Where the private key (PEM) for One Login's private_key_jwt is "
                        "read from: env:NAME or file:/path.")
    one_login_vtr: str = Field(
        '["Cl.Cm.P2"]', description="The vector of trust asked of One Login (its `vtr`): "
                                    "Cl.Cm for medium confidence, P2 for identity.")
    one_login_identity_issuer: str = Field(
        "", description="The issuer of One Login's identity claim (coreIdentityJWT).")
    one_login_identity_key: Path | None = Field(
        None, description="The identity claim issuer's public key (JWK or PEM file), "
                          "which the claim's signature is checked against.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="The least severe log lines written (JSON lines on standard "
                            "output): `debug`, `info`, `warning` or `error`.")

    @field_validator("database_url", "master_key_file", "tsa_roots", "witness_key_file",
                     "witness_logs", "one_login_identity_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str | None) -> str | None:
        if value is not None:
            parse_database_url(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        return ",".join(_proxy(item) for item in filter(None, (
            part.strip() for part in value.split(","))))

    @field_validator("witnesses")
    @classmethod
    def _pairs(cls, value: str) -> str:
        for pair in filter(None, (part.strip() for part in value.split(","))):
            if len(pair.split()) != 2:
                raise ValueError(f"{pair!r} is not `URL VKEY`")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # load() merges the sources, noting where each value is from


SECRETS = frozenset(name for name, field in Settings.model_fields.items()
                    if isinstance(field.json_schema_extra, dict)
                    and field.json_schema_extra.get("secret"))


def variable(name: str) -> str:
    """The environment variable of a setting: `audit_interval` -> ONCEONLY_AUDIT_INTERVAL."""
    return PREFIX + name.upper()
