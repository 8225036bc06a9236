"""The exchange's Python client, as the onceonly-client distribution (clients/python/)
ships it to integrators; importable here as it always was."""

from onceonly_client.client import (
    SIGNATURE_HEADER,
    ExchangeError,
    LogCheck,
    OnceonlyClient,
    VerifiedRelease,
)

__all__ = ["SIGNATURE_HEADER", "ExchangeError", "LogCheck", "OnceonlyClient",
           "VerifiedRelease"]
