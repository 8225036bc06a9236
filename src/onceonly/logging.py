"""Structured JSON logs (structlog): one JSON object a line on standard output, at the level
the settings give (ONCEONLY_LOG_LEVEL). Lines of the standard library's logging (the
server's own, Alembic's) are written the same way, so that every line is JSON."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import orjson
import structlog

from onceonly.config import log_level


def _exceptions() -> Any:
    # An exception as structured frames (structlog's dict_tracebacks), without local
    # variables (they may hold tokens or keys).
    return structlog.processors.ExceptionRenderer(
        structlog.tracebacks.ExceptionDictTransformer(show_locals=False))


# What orjson writes as the json module writes it: a datetime or a dataclass goes to the
# fallback (its repr), as before.
_AS_JSON_MODULE = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _line(value: Any, default: Callable[[Any], Any], **_: Any) -> str:
    """One line's JSON, compact: written by orjson, several times faster than the json
    module; by the json module where orjson cannot (an integer past 64 bits, a key that is
    not a string) and where the line is not ASCII, which the json module escapes."""
    try:
        line = orjson.dumps(value, default=default, option=_AS_JSON_MODULE).decode()
        if line.isascii():
            return line
    except TypeError:
        pass
    return json.dumps(value, default=default, separators=(",", ":"))


def _renderer() -> structlog.processors.JSONRenderer:
    return structlog.processors.JSONRenderer(serializer=_line)


def configure_logging(level: str | int | None = None) -> None:
    """`level`: a name (`debug`, `info`, ...) or a number; default the settings' log level."""
    if level is None:
        level = log_level()
    if isinstance(level, str):
        level = logging.getLevelNamesMapping()[level.upper()]
    stamped = [structlog.processors.add_log_level,
               structlog.processors.TimeStamper(fmt="iso", utc=True)]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *stamped, _exceptions(),
                    _renderer()],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.contextvars.merge_contextvars,
                           structlog.stdlib.add_logger_name, *stamped],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _exceptions(), _renderer()]))
    handler.set_name("onceonly-json")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "onceonly-json"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own defaults, if anything applied them first, print its lines in text and
    # stop them reaching the root: its lines go through the one JSON handler instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_log = logging.getLogger(name)
        server_log.handlers.clear()
        server_log.propagate = True
    # Alembic says which dialect it is on each time the readiness probe reads the revision.
    logging.getLogger("alembic.runtime.migration").setLevel(max(level, logging.WARNING))
