"""Structured JSON logs (structlog): one JSON object a line on standard output, at the level
the settings give (ONCEONLY_LOG_LEVEL)."""

from __future__ import annotations

import logging

import structlog

from onceonly.config import log_level


def configure_logging(level: str | int | None = None) -> None:
    """`level`: a name (`debug`, `info`, ...) or a number; default the settings' log level."""
    if level is None:
        level = log_level()
    if isinstance(level, str):
        level = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # An exception as structured frames (structlog's dict_tracebacks), without local
            # variables (they may hold tokens or keys).
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
