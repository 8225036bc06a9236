"""The server's JSON logs (logging.py): an error keeps its traceback."""

from __future__ import annotations

import json

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
