"""What the exchange logs, captured whatever an earlier test in the process did to structlog.

The exchange's loggers are made once, at import (`log = structlog.get_logger(...)`). Under
its JSON configuration (logging.py: `cache_logger_on_first_use`) a logger keeps the
processors it was first used with, so a later `structlog.testing.capture_logs`, which swaps
the configured ones, would miss its lines for the rest of the process. While capturing, each
of them is replaced by a logger of the same name made under the capture."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from structlog.typing import Processor

_LAZY_LOGGER = type(structlog.get_logger())


@contextmanager
def captured_logs(processors: Iterable[Processor] = ()) -> Iterator[list[dict[str, Any]]]:
    """`structlog.testing.capture_logs`, through loggers made under it."""
    with structlog.testing.capture_logs(processors=processors) as lines:
        replaced = _made_afresh()
        try:
            yield lines
        finally:
            for module, name, logger in replaced:
                setattr(module, name, logger)


def _made_afresh() -> list[tuple[Any, str, Any]]:
    """Each of the exchange's module-level loggers replaced by a new one of its name; what
    was there, to put back."""
    replaced = []
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("onceonly.") or module is None:
            continue
        for name, value in list(vars(module).items()):
            if isinstance(value, _LAZY_LOGGER):
                # The name it was made with (structlog keeps it as the factory's arguments).
                setattr(module, name, structlog.get_logger(*value._logger_factory_args))
                replaced.append((module, name, value))
    return replaced
