"""Every ONCEONLY_* setting is read through config/'s one model, which
docs/configuration.md is written from: a setting read from the environment anywhere else
would be missing from `onceonly config`, its checks and its reference."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).parents[2] / "src" / "onceonly"
READ = re.compile(r"""(os\.environ\.get|os\.getenv|os\.environ\[)\(?\s*["']ONCEONLY_""")


def test_no_setting_is_read_from_the_environment_outside_config() -> None:
    reads = [f"{path.relative_to(SRC)}:{number}: {line.strip()}"
             for path in sorted(SRC.rglob("*.py"))
             if path.name != "config.py" and path.relative_to(SRC).parts[0] != "config"
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if READ.search(line)]
    assert reads == [], ("add the setting to config.Settings and read it from there "
                         "(then `onceonly config --markdown > docs/configuration.md`)")


def test_the_pattern_finds_a_read() -> None:
    assert READ.search('x = os.environ.get("ONCEONLY_NEW", "1")')
    assert READ.search("os.getenv('ONCEONLY_NEW')")
    assert not READ.search('os.environ["PROMETHEUS_MULTIPROC_DIR"] = figures')
