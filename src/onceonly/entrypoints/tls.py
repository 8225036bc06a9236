"""TLS, and optionally mutual TLS, for `onceonly serve`: the uvicorn settings, checked
before the server starts (Python's `ssl`, i.e. OpenSSL, does the work)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any


class TlsSettingsInvalid(ValueError):
    pass


def uvicorn_tls(cert: Path | None, key: Path | None,
                client_ca: Path | None) -> dict[str, Any]:
    """uvicorn's ssl_* settings: none without a certificate; with a client CA, every client
    must present a certificate it issued (refused in the TLS handshake otherwise)."""
    if cert is None and key is None:
        if client_ca is not None:
            raise TlsSettingsInvalid("--tls-client-ca needs --tls-cert and --tls-key")
        return {}
    if cert is None or key is None:
        raise TlsSettingsInvalid("--tls-cert and --tls-key go together")
    for option, path in (("--tls-cert", cert), ("--tls-key", key),
                         ("--tls-client-ca", client_ca)):
        if path is not None and not path.is_file():
            raise TlsSettingsInvalid(f"{option}: {path} is not a readable file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as problem:
        raise TlsSettingsInvalid(
            f"--tls-cert/--tls-key: not a PEM certificate and its private key ({problem})"
        ) from None
    settings: dict[str, Any] = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    if client_ca is not None:
        try:
            context.load_verify_locations(cafile=client_ca)
        except (ssl.SSLError, OSError) as problem:
            raise TlsSettingsInvalid(
                f"--tls-client-ca: not a PEM CA certificate ({problem})") from None
        settings.update(ssl_ca_certs=str(client_ca), ssl_cert_reqs=ssl.CERT_REQUIRED)
    return settings
