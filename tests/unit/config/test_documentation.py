"""docs/configuration.md is written from the settings model: it names every setting, and this
test fails when the file is out of date."""

from __future__ import annotations

from pathlib import Path

from onceonly.config import Settings, reference, variable

DOC = Path(__file__).parents[3] / "docs" / "configuration.md"


def test_the_configuration_reference_is_up_to_date() -> None:
    assert DOC.read_text() == reference() + "\n", (
        "docs/configuration.md is out of date: run "
        "`uv run onceonly config --markdown > docs/configuration.md`")


def test_it_documents_every_setting_with_its_description() -> None:
    text = reference()
    for name, field in Settings.model_fields.items():
        assert f"## `{variable(name)}`\n\n{field.description}\n" in text
        assert f"| `{variable(name)}` | `{name}` |" in text
    assert "| `ONCEONLY_DATABASE_URL` | `database_url` | text | (unset) | yes |" in text
    assert "| `ONCEONLY_AUDIT_INTERVAL` | `audit_interval` | number | `1.0` |  |" in text
    assert "| `ONCEONLY_DELIVERY_MAX_ATTEMPTS` | `delivery_max_attempts` | whole number |" \
        in text
    assert "one of `debug`, `info`, `warning`, `error`" in text
