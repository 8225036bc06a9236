"""The server's JSON logs (logging.py): an error keeps its traceback."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
import structlog

from onceonly.logging import configure_logging


@pytest.fixture
def json_logs():
    configure_logging()
    yield
    structlog.reset_defaults()


def test_an_exception_is_rendered_with_its_frames_not_just_a_flag(json_logs, capsys):
    def integrate(token: str) -> None:
        raise LookupError("GOV/EXCHANGE has no active signing key")

    try:
        integrate("oo_secret-token")
    except LookupError:
        structlog.get_logger("onceonly.test").exception("background work failed", work="w")

    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    [exception] = line["exception"]
    assert (exception["exc_type"], exception["exc_value"]) == (
        "LookupError", "GOV/EXCHANGE has no active signing key")
    assert [frame["name"] for frame in exception["frames"]][-1] == "integrate"
    assert "exc_info" not in line
    assert "oo_secret-token" not in json.dumps(line)  # no local variables in the log


@pytest.mark.parametrize(("level", "written"), [
    ("debug", ["debug", "info", "warning", "error"]), ("info", ["info", "warning", "error"]),
    ("WARNING", ["warning", "error"]), ("error", ["error"])])
def test_the_level_setting_drops_less_severe_lines(capsys, monkeypatch, level, written):
    monkeypatch.setenv("ONCEONLY_LOG_LEVEL", level)
    configure_logging()
    try:
        logger = structlog.get_logger("onceonly.test")
        logger.debug("d")
        logger.info("i")
        logger.warning("w")
        logger.error("e")
        lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    finally:
        structlog.reset_defaults()
    assert [line["level"] for line in lines] == written
    assert all(line["timestamp"].endswith("Z") for line in lines)


def test_a_level_given_overrides_the_setting(capsys, monkeypatch):
    monkeypatch.setenv("ONCEONLY_LOG_LEVEL", "debug")
    configure_logging("error")
    try:
        structlog.get_logger("onceonly.test").warning("w")
        assert capsys.readouterr().out == ""
    finally:
        structlog.reset_defaults()


def test_standard_library_lines_are_json_too_with_the_request_id(capsys):
    import logging
    import logging.config

    from uvicorn.config import LOGGING_CONFIG

    # uvicorn's own defaults (a server run in process applies them) keep its lines from the
    # root; configuring the exchange's logging takes them back.
    logging.config.dictConfig(LOGGING_CONFIG)
    configure_logging("info")
    try:
        with structlog.contextvars.bound_contextvars(request_id="r-1"):
            logging.getLogger("uvicorn.error").warning("worker %s died", 7)
            logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
        lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    finally:
        structlog.reset_defaults()
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "onceonly-json"]:
            root.removeHandler(handler)
    [line] = lines  # alembic's chatter on each readiness probe is left out
    assert (line["event"], line["logger"], line["level"], line["request_id"]) == (
        "worker 7 died", "uvicorn.error", "warning", "r-1")


def test_a_line_holds_what_the_json_module_would_write_ascii_and_compact(json_logs, capsys):
    @dataclasses.dataclass
    class Made:
        n: int

    values = {"n": 2**70, "at": datetime(2026, 12, 6, tzinfo=UTC), "made": Made(1),
              "name": "Siân", "nothing": None, "floats": [0.1, 1e20, -0.0], "nested": {"a": [1]}}
    for value in values.items():
        structlog.get_logger("t").info("values", **dict([value]))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(values) and all(line.isascii() and '": ' not in line
                                             for line in lines)
    for (key, value), line in zip(values.items(), lines, strict=True):
        written = json.loads(json.dumps(value, default=repr))
        assert json.loads(line)[key] == written, key
