"""How the server and its workers run: the hosts connectors may reach, the log level, who
must sign requests, webhook deliveries' retries and leases, the proxies believed."""

from __future__ import annotations

from onceonly.config.loading import settings


def connector_hosts() -> frozenset[str]:
    """The hosts an http connector may reach, in lower case."""
    return frozenset(host.strip().lower() for host in settings().connector_hosts.split(",")
                     if host.strip())



def log_level() -> str:
    return settings().log_level



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
