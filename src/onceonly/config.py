"""Settings from the environment, with defaults that work on a fresh machine."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATA_DIR = Path("onceonly-data")
MASTER_KEY_FILE = "master-keys.json"


def operator_org() -> str:
    """The organisation that runs the exchange: its key signs the audit log's tree heads."""
    return os.environ.get("ONCEONLY_OPERATOR_ORG", "GOV/EXCHANGE")


def audit_interval() -> float:
    """Seconds between integrations of new audit entries under a signed tree head (0: off)."""
    raw = os.environ.get("ONCEONLY_AUDIT_INTERVAL", "1")
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(
            f"ONCEONLY_AUDIT_INTERVAL must be a number of seconds, not {raw!r}") from None
    if seconds < 0:
        raise ValueError("ONCEONLY_AUDIT_INTERVAL cannot be negative")
    return seconds


def timestamp_authorities() -> list[str]:
    """ONCEONLY_TSA_URLS: the RFC 3161 timestamping authorities that stamp the audit log's
    signed tree heads, separated by commas or spaces, tried in order (one answer suffices);
    unset: none."""
    raw = os.environ.get("ONCEONLY_TSA_URLS", "")
    return [url for url in raw.replace(",", " ").split() if url]


def timestamp_roots_file() -> Path | None:
    """ONCEONLY_TSA_ROOTS: a PEM file of the certificates the authorities' timestamping
    certificates chain to; every token is checked against them."""
    raw = os.environ.get("ONCEONLY_TSA_ROOTS", "").strip()
    return Path(raw).expanduser() if raw else None


def timestamp_every() -> float:
    """ONCEONLY_TSA_EVERY: 0 (the default) stamps every signed tree head; N > 0 stamps only
    the latest head every N seconds (under load: fewer tokens, each covering the heads
    before it through their chain)."""
    raw = os.environ.get("ONCEONLY_TSA_EVERY", "0")
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"ONCEONLY_TSA_EVERY must be a number of seconds, not {raw!r}") \
            from None
    if seconds < 0:
        raise ValueError("ONCEONLY_TSA_EVERY cannot be negative")
    return seconds


def log_origin() -> str:
    """ONCEONLY_LOG_ORIGIN: the audit log's name in its checkpoints (C2SP tlog-checkpoint's
    origin line, a schema-less URL such as exchange.example.gov/audit); witnesses know the
    log by it. Default: onceonly/ and the operator's organisation."""
    return os.environ.get("ONCEONLY_LOG_ORIGIN", "").strip() or \
        f"onceonly/{operator_org().lower()}"


def witnesses() -> list[tuple[str, str]]:
    """ONCEONLY_WITNESSES: the log's witnesses, as `URL VKEY` pairs separated by commas:
    each witness's URL prefix (its add-checkpoint is under it) and its verifier key (C2SP
    signed-note vkey, as `onceonly witness key` prints it). Unset: none."""
    found = []
    for pair in os.environ.get("ONCEONLY_WITNESSES", "").split(","):
        if not pair.strip():
            continue
        parts = pair.split()
        if len(parts) != 2:
            raise ValueError(f"ONCEONLY_WITNESSES: {pair.strip()!r} is not `URL VKEY`")
        found.append((parts[0], parts[1]))
    return found


def witness_key_file() -> Path | None:
    """ONCEONLY_WITNESS_KEY_FILE: this exchange's witness key (PEM, Ed25519, made by
    `onceonly witness key`); set, the exchange is a witness of the logs in
    ONCEONLY_WITNESS_LOGS."""
    raw = os.environ.get("ONCEONLY_WITNESS_KEY_FILE", "").strip()
    return Path(raw).expanduser() if raw else None


def witness_name() -> str:
    """ONCEONLY_WITNESS_NAME: the witness's name in its cosignatures (a schema-less URL)."""
    return os.environ.get("ONCEONLY_WITNESS_NAME", "").strip() or \
        f"onceonly/{operator_org().lower()}/witness"


def witness_logs_file() -> Path | None:
    """ONCEONLY_WITNESS_LOGS: a JSON file of the logs this witness watches, {"logs":
    [{"origin": ..., "log_org": ..., "jwks": {"keys": [...]}}]}."""
    raw = os.environ.get("ONCEONLY_WITNESS_LOGS", "").strip()
    return Path(raw).expanduser() if raw else None


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


def database_url(explicit: str | None = None) -> str:
    """--db, else ONCEONLY_DATABASE_URL (unset when empty), else the embedded SQLite file;
    checked by parse_database_url."""
    url = explicit if explicit is not None else (
        os.environ.get("ONCEONLY_DATABASE_URL")
        or f"sqlite:///{(DEFAULT_DATA_DIR / 'exchange.sqlite').resolve()}")
    parse_database_url(url)
    return url


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
    explicit = os.environ.get("ONCEONLY_MASTER_KEY_FILE")
    if explicit:
        return Path(explicit).expanduser(), True
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
    raw = os.environ.get("ONCEONLY_REQUIRE_SIGNATURES", "").strip()
    if raw.lower() in {"", "0", "false", "no", "off"}:
        return False
    if raw.lower() in {"1", "true", "yes", "on", "all"}:
        return True
    return frozenset(org.strip() for org in raw.split(",") if org.strip())


def _positive(name: str, default: str, kind: type[int] | type[float]) -> int | float:
    raw = os.environ.get(name, default)
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be above 0")
    return value


def delivery_retry() -> tuple[int, float, float]:
    """How webhook deliveries are retried: ONCEONLY_DELIVERY_MAX_ATTEMPTS (8) before a
    delivery is dead-lettered, backing off from ONCEONLY_DELIVERY_BACKOFF_SECONDS (1) up to
    ONCEONLY_DELIVERY_BACKOFF_CAP_SECONDS (300), doubling each time, with jitter."""
    return (int(_positive("ONCEONLY_DELIVERY_MAX_ATTEMPTS", "8", int)),
            float(_positive("ONCEONLY_DELIVERY_BACKOFF_SECONDS", "1", float)),
            float(_positive("ONCEONLY_DELIVERY_BACKOFF_CAP_SECONDS", "300", float)))


def delivery_lease() -> float:
    """ONCEONLY_DELIVERY_LEASE_SECONDS (30): how long a worker holds the deliveries it took;
    if it dies, others take them again after this. Longer than a receiver's timeout."""
    return float(_positive("ONCEONLY_DELIVERY_LEASE_SECONDS", "30", float))


def trusted_proxies() -> list[str]:
    """ONCEONLY_TRUSTED_PROXIES: the addresses and networks (CIDR) of the proxies whose
    X-Forwarded-For and X-Forwarded-Proto are believed, comma-separated; default a proxy on
    this machine (127.0.0.1,::1); empty: none. A request from anywhere else is taken to come
    from the address it comes from, whatever its headers say."""
    raw = os.environ.get("ONCEONLY_TRUSTED_PROXIES", "127.0.0.1,::1")
    trusted = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            trusted.append(str(ipaddress.ip_network(item, strict=False)) if "/" in item
                           else str(ipaddress.ip_address(item)))
        except ValueError:
            raise ValueError(f"ONCEONLY_TRUSTED_PROXIES: {item!r} is not an IP address or "
                             "network (e.g. 10.0.0.7 or 10.0.0.0/24)") from None
    return trusted
