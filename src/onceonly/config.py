"""The exchange's settings: one model (pydantic-settings), read from the command line, the
environment (`ONCEONLY_*`), secrets in files (`ONCEONLY_*_FILE`), an optional TOML file
(`--config FILE` / `ONCEONLY_CONFIG`) and the defaults, in that order. `onceonly config`
shows what is in effect and where each value came from; `docs/configuration.md` is written
from this model (`onceonly config --markdown`)."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
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


class SettingsInvalid(ValueError):
    """Settings that cannot be used; `problems` names each bad value and where it is from."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class _SecretFiles(PydanticBaseSettingsSource):
    """A secret read from the file its `ONCEONLY_<NAME>_FILE` names (container and systemd
    credentials), its one trailing newline dropped."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name in sorted(SECRETS):
            path = os.environ.get(variable(name) + "_FILE")
            if not path:
                continue
            if variable(name) in os.environ:
                raise SettingsInvalid([f"{variable(name)} and {variable(name)}_FILE are both "
                                       "set: set only one"])
            try:
                found[name] = Path(path).read_text(encoding="utf-8").removesuffix("\n")
            except OSError as exc:
                raise SettingsInvalid([f"{variable(name)}_FILE: cannot read {path}: "
                                       f"{exc.strerror}"]) from None
        return found


def _config_file(explicit: Path | None) -> Path | None:
    raw = explicit if explicit is not None else os.environ.get(CONFIG_VARIABLE) or None
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise SettingsInvalid([f"{CONFIG_VARIABLE}: the configuration file {path} does not "
                               "exist"])
    return path


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        return dict(TomlConfigSettingsSource(Settings, toml_file=path)())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsInvalid([f"{path} is not TOML: {exc}"]) from None


@dataclass(frozen=True, slots=True)
class Loaded:
    """The settings in effect, and where each came from (`default`, `environment`, ...)."""

    settings: Settings
    sources: Mapping[str, str]
    raw: Mapping[str, Any]


def load(overrides: Mapping[str, Any] | None = None, *,
         config_file: Path | None = None) -> Loaded:
    """The settings: `overrides` (the command line's) over the environment over secret files
    over the TOML file over the defaults; SettingsInvalid naming every bad value."""
    path = _config_file(config_file)
    layers: list[tuple[str, Mapping[str, Any]]] = [
        ("command line", {k: v for k, v in (overrides or {}).items() if v is not None}),
        ("environment", EnvSettingsSource(Settings)()),
        ("secret file", _SecretFiles(Settings)()),
        (f"config file {path}", _from_toml(path) if path else {}),
    ]
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, values in layers:
        for name, value in values.items():
            if name not in merged:
                merged[name], sources[name] = value, source
    try:
        settings = Settings(**merged)
    except ValidationError as error:
        raise SettingsInvalid([_problem(e, merged, sources) for e in error.errors()]) from None
    return Loaded(settings, {name: sources.get(name, "default")
                             for name in Settings.model_fields}, merged)


def _problem(error: Any, merged: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    name = str(error["loc"][0]) if error["loc"] else "?"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{name} (from the {sources.get(name, 'input')}) is not a setting"
    shown = repr(merged.get(name))
    if name in SECRETS:  # a URL's password, say, stays out of the message
        shown = "(secret)"
        message = message.replace(str(merged.get(name)), shown)
    return (f"{variable(name)} = {shown} (from the {sources.get(name, 'default')}): "
            f"{message}")


def settings() -> Settings:
    """The settings in effect (read afresh: the environment may change under tests)."""
    return load().settings


def shown(name: str, value: Any) -> str:
    """A value as `onceonly config` prints it: a database URL's password masked."""
    if value is None:
        return "(unset)"
    if value == "":
        return "(empty)"
    if name == "database_url":
        return make_url(value).render_as_string(hide_password=True)
    if name in SECRETS:
        return "****"
    return str(value)


def connector_hosts() -> frozenset[str]:
    """The hosts an http connector may reach, in lower case."""
    return frozenset(host.strip().lower() for host in settings().connector_hosts.split(",")
                     if host.strip())


def operator_org() -> str:
    """The organisation that runs the exchange: its key signs the audit log's tree heads."""
    return settings().operator_org


def audit_interval() -> float:
    """Seconds between integrations of new audit entries under a signed tree head (0: off)."""
    return settings().audit_interval


def govuk_brand() -> bool:
    return settings().govuk_brand


def privacy_policy_url() -> str:
    return settings().privacy_policy_url


def log_level() -> str:
    return settings().log_level


def database_url(explicit: str | None = None) -> str:
    """--db, else ONCEONLY_DATABASE_URL (or its file, or the TOML file), else the embedded
    SQLite file; checked by parse_database_url."""
    if explicit is not None:
        parse_database_url(explicit)
        return explicit
    return settings().database_url or \
        f"sqlite:///{(DEFAULT_DATA_DIR / 'exchange.sqlite').resolve()}"


def beside_database(db_url: str | URL, name: str) -> Path:
    """Where the exchange at `db_url` keeps a file of its own (its master keys, the demo's
    provider stores and tokens): beside its SQLite file and named after it, so that two
    exchanges in one folder share nothing (`/x/d.sqlite`: `/x/d.<name>`); for a server
    database, `./onceonly-data/<name>`."""
    url = parse_database_url(db_url) if isinstance(db_url, str) else db_url
    if url.get_backend_name() == "sqlite" and url.database:
        database = Path(url.database).resolve()
        return database.with_name(f"{database.stem}.{name}")
    return (DEFAULT_DATA_DIR / name).resolve()


def master_key_file(db_url: str | URL) -> tuple[Path, bool]:
    """The key file holding the master keys, and whether it was configured explicitly.

    ONCEONLY_MASTER_KEY_FILE if set (it must exist: `onceonly keys init` makes one); else,
    for the demo and tests, the default beside the database (beside_database), made when
    first needed. A folder where an earlier onceonly kept one `master-keys.json` for every
    SQLite database in it, and which has no key file named after this one, keeps using
    that file: its keys wrap the data keys of the databases made then. In production keep
    the key file apart from the database (or use a KMS): whoever has both has the keys."""
    explicit = settings().master_key_file
    if explicit:
        return explicit.expanduser(), True
    path = beside_database(db_url, MASTER_KEY_FILE)
    shared = path.with_name(MASTER_KEY_FILE)
    if shared != path and shared.exists() and not path.exists():
        return shared, False
    return path, False


def require_signatures() -> bool | frozenset[str]:
    """ONCEONLY_REQUIRE_SIGNATURES: "1" (or "true", "all"): every request on a route that
    needs a caller must be signed (RFC 9421); a comma-separated list of organisation ids
    (e.g. "GOV/DWP,COM/ACME"): requests from those organisations must be; unset, "" or
    "0": signing is optional."""
    raw = settings().require_signatures.strip()
    if raw.lower() in {"", "0", "false", "no", "off"}:
        return False
    if raw.lower() in {"1", "true", "yes", "on", "all"}:
        return True
    return frozenset(org.strip() for org in raw.split(",") if org.strip())


def delivery_retry() -> tuple[int, float, float]:
    """How webhook deliveries are retried: attempts before a delivery is dead-lettered, the
    first back-off and its cap (doubling each time, with jitter)."""
    chosen = settings()
    return (chosen.delivery_max_attempts, chosen.delivery_backoff_seconds,
            chosen.delivery_backoff_cap_seconds)


def delivery_lease() -> float:
    """How long a worker holds the deliveries it took; if it dies, others take them again
    after this. Longer than a receiver's timeout."""
    return settings().delivery_lease_seconds


def trusted_proxies() -> list[str]:
    """The addresses and networks of the proxies whose X-Forwarded-For and X-Forwarded-Proto
    are believed; default a proxy on this machine (127.0.0.1,::1); empty: none. A request
    from anywhere else is taken to come from the address it comes from, whatever its
    headers say."""
    return [item for item in settings().trusted_proxies.split(",") if item]


def timestamp_authorities() -> list[str]:
    """The RFC 3161 authorities to ask, in order (one answer suffices)."""
    return settings().tsa_urls.replace(",", " ").split()


def timestamp_roots_file() -> Path | None:
    roots = settings().tsa_roots
    return roots.expanduser() if roots else None


def timestamp_every() -> float:
    """0: stamp every signed tree head; N > 0: only the latest every N seconds."""
    return settings().tsa_every


def log_origin() -> str:
    """The audit log's name in its checkpoints, which its witnesses know it by."""
    chosen = settings()
    return chosen.log_origin.strip() or f"onceonly/{chosen.operator_org.lower()}"


def witnesses() -> list[tuple[str, str]]:
    """The log's witnesses: (URL prefix, verifier key) each."""
    return [(pair.split()[0], pair.split()[1])
            for pair in filter(None, (part.strip() for part in settings().witnesses.split(",")))]


def witness_key_file() -> Path | None:
    key = settings().witness_key_file
    return key.expanduser() if key else None


def witness_name() -> str:
    """The witness's name in its cosignatures."""
    chosen = settings()
    return chosen.witness_name.strip() or f"onceonly/{chosen.operator_org.lower()}/witness"


def witness_logs_file() -> Path | None:
    logs = settings().witness_logs
    return logs.expanduser() if logs else None


def _kind(name: str) -> str:
    kinds = {str: "text", float: "number", int: "whole number", Path: "path",
             bool: "true or false"}
    annotation = Settings.model_fields[name].annotation
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{choice}`" for choice in get_args(annotation))
    known = [kinds[arg] for arg in (get_args(annotation) or (annotation,)) if arg in kinds]
    return known[0]


def reference() -> str:
    """docs/configuration.md, written from the model (`onceonly config --markdown`)."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from src/onceonly/config.py by `onceonly config --markdown`; "
        "tests/unit/test_config_reference.py fails when it is out of date. -->",
        "",
        "Every setting is read, first match wins, from:",
        "",
        "1. the command line (`--db`, `serve --forwarded-allow-ips`);",
        "2. the environment variable named below;",
        "3. for a secret, the file named by the same variable with `_FILE` appended "
        "(`ONCEONLY_DATABASE_URL_FILE=/run/secrets/db-url`), its trailing newline dropped; "
        "setting both is refused;",
        f"4. a TOML file named by `--config FILE` or `{CONFIG_VARIABLE}`, its keys the "
        "settings' names in lower case (`audit_interval = 5`);",
        "5. the default.",
        "",
        "`onceonly config` prints the settings in effect, secrets masked, and where each came "
        "from; `onceonly config --check` exits 2 naming each bad value. `serve` and `worker` "
        "refuse to start on a bad value.",
        "",
        "| variable | TOML key | kind | default | secret |",
        "|---|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = {None: "(unset)", "": "(empty)"}.get(field.default, f"`{field.default}`")
        lines.append(f"| `{variable(name)}` | `{name}` | {_kind(name)} | {default} | "
                     f"{'yes' if name in SECRETS else ''} |")
    lines.append("")
    for name, field in Settings.model_fields.items():
        lines += [f"## `{variable(name)}`", "", str(field.description), ""]
    lines += ["## Not settings of the server", "",
              "`ONCEONLY_TOKEN` is an API token for the commands that call a server as a "
              "client (`onceonly audit check`).", ""]
    return "\n".join(lines)


def password_sign_in() -> bool:
    return settings().password_sign_in


def read_secret(reference: str) -> str:
    """A secret named by reference, `env:NAME` or `file:/path`: registrations keep where a
    secret is, never the secret."""
    kind, _, where = reference.partition(":")
    if kind == "env" and where in os.environ:
        return os.environ[where]
    if kind == "file" and Path(where).is_file():
        return Path(where).read_text()
    raise LookupError(f"the secret {reference!r} is not there")
