"""The settings model (config/model.py, read by config/loading.py): where each value comes
from, in which order, and how a bad one is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from onceonly import config
from onceonly.config import Settings, SettingsInvalid, load, shown, variable


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ONCEONLY_* setting from the test run's own environment."""
    for name in Settings.model_fields:
        monkeypatch.delenv(variable(name), raising=False)
        monkeypatch.delenv(variable(name) + "_FILE", raising=False)
    monkeypatch.delenv(config.CONFIG_VARIABLE, raising=False)


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "onceonly.toml"
    path.write_text(text)
    return path


def test_defaults_when_nothing_is_set() -> None:
    loaded = load()
    assert loaded.settings == Settings()
    assert set(loaded.sources.values()) == {"default"}
    assert loaded.settings.audit_interval == 1.0
    assert loaded.settings.trusted_proxies == "127.0.0.1,::1"


def test_command_line_over_environment_over_secret_file_over_toml_over_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = toml(tmp_path, 'audit_interval = 5\noperator_org = "GOV/FILE"\n'
                          'log_level = "WARNING"\ndelivery_max_attempts = 3\n'
                          'database_url = "sqlite:///from-toml.sqlite"\n')
    secret = tmp_path / "db-url"
    secret.write_text("sqlite:///from-secret.sqlite\n")
    monkeypatch.setenv(config.CONFIG_VARIABLE, str(path))
    monkeypatch.setenv("ONCEONLY_DATABASE_URL_FILE", str(secret))
    monkeypatch.setenv("ONCEONLY_OPERATOR_ORG", "GOV/ENV")
    monkeypatch.setenv("ONCEONLY_DELIVERY_MAX_ATTEMPTS", "4")

    loaded = load({"delivery_max_attempts": 2, "audit_interval": None})

    chosen = loaded.settings
    assert (chosen.delivery_max_attempts, chosen.operator_org, chosen.audit_interval,
            chosen.log_level, chosen.database_url) == (
        2, "GOV/ENV", 5.0, "warning", "sqlite:///from-secret.sqlite")
    assert loaded.sources["delivery_max_attempts"] == "command line"
    assert loaded.sources["operator_org"] == "environment"
    assert loaded.sources["database_url"] == "secret file"
    assert loaded.sources["audit_interval"] == f"config file {path}"
    assert loaded.sources["delivery_lease_seconds"] == "default"


def test_the_functions_read_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.CONFIG_VARIABLE, str(toml(tmp_path, (
        'delivery_backoff_seconds = 0.5\ndelivery_backoff_cap_seconds = 9\n'
        'delivery_lease_seconds = 7\nrequire_signatures = "GOV/DWP, COM/ACME"\n'
        f'master_key_file = "{tmp_path}/k.json"\nprivacy_policy_url = "https://x.test/p"\n'
        'trusted_proxies = "10.0.0.1/8"\n'))))
    monkeypatch.setenv("ONCEONLY_DELIVERY_MAX_ATTEMPTS", "3")
    assert config.delivery_retry() == (3, 0.5, 9.0)
    assert config.delivery_lease() == 7.0
    assert config.require_signatures() == frozenset({"GOV/DWP", "COM/ACME"})
    assert config.master_key_file("sqlite:///x.sqlite") == (tmp_path / "k.json", True)
    assert config.privacy_policy_url() == "https://x.test/p"
    assert config.trusted_proxies() == ["10.0.0.0/8"]
    assert config.log_level() == "info"
    assert config.operator_org() == "GOV/EXCHANGE"


@pytest.mark.parametrize(("raw", "required"), [
    ("", False), ("0", False), ("off", False), ("1", True), ("ALL", True), ("true", True)])
def test_require_signatures_words(monkeypatch: pytest.MonkeyPatch, raw: str,
                                  required: bool) -> None:
    monkeypatch.setenv("ONCEONLY_REQUIRE_SIGNATURES", raw)
    assert config.require_signatures() is required


def test_an_empty_database_url_or_key_file_is_unset(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("ONCEONLY_DATABASE_URL", "")
    monkeypatch.setenv("ONCEONLY_MASTER_KEY_FILE", " ")
    monkeypatch.chdir(tmp_path)
    assert config.database_url() == f"sqlite:///{tmp_path / 'onceonly-data/exchange.sqlite'}"
    assert config.master_key_file(f"sqlite:///{tmp_path}/d.sqlite") == (
        tmp_path / "d.master-keys.json", False)
    assert config.database_url("sqlite:///given.sqlite") == "sqlite:///given.sqlite"


def test_every_bad_value_is_named_with_where_it_came_from(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = toml(tmp_path, "delivery_lease_seconds = 0\n")
    monkeypatch.setenv(config.CONFIG_VARIABLE, str(path))
    monkeypatch.setenv("ONCEONLY_AUDIT_INTERVAL", "-1")
    monkeypatch.setenv("ONCEONLY_LOG_LEVEL", "loud")
    monkeypatch.setenv("ONCEONLY_DELIVERY_MAX_ATTEMPTS", "2.5")
    monkeypatch.setenv("ONCEONLY_OPERATOR_ORG", "")

    with pytest.raises(SettingsInvalid) as refused:
        load()

    problems = refused.value.problems
    assert len(problems) == 5, problems
    assert problems[0].startswith("ONCEONLY_OPERATOR_ORG = '' (from the environment)")
    assert problems[1] == ("ONCEONLY_AUDIT_INTERVAL = '-1' (from the environment): Input "
                           "should be greater than or equal to 0")
    assert problems[2].startswith("ONCEONLY_DELIVERY_MAX_ATTEMPTS = '2.5' (from the "
                                  "environment): Input should be a valid integer")
    assert problems[3] == (f"ONCEONLY_DELIVERY_LEASE_SECONDS = 0 (from the config file "
                           f"{path}): Input should be greater than 0")
    assert problems[4].startswith("ONCEONLY_LOG_LEVEL = 'loud' (from the environment): "
                                  "Input should be 'debug', 'info', 'warning' or 'error'")
    assert str(refused.value) == "; ".join(problems)


def test_a_bad_database_url_is_named_without_its_password(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("ONCEONLY_DATABASE_URL", "mysql://admin:hunter2@db/exchange")
    with pytest.raises(SettingsInvalid) as refused:
        load()
    [problem] = refused.value.problems
    assert problem.startswith("ONCEONLY_DATABASE_URL = (secret) (from the environment): ")
    assert "unsupported database 'mysql'" in problem and "hunter2" not in problem


def test_a_bad_trusted_proxy_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCEONLY_TRUSTED_PROXIES", "10.0.0.1,the-proxy")
    with pytest.raises(ValueError, match="'the-proxy' is not an IP address or network"):
        config.trusted_proxies()


def test_a_toml_key_that_is_no_setting_is_refused(tmp_path: Path) -> None:
    path = toml(tmp_path, 'audit_intervall = 5\n')
    with pytest.raises(SettingsInvalid) as refused:
        load(config_file=path)
    assert refused.value.problems == [
        f"audit_intervall (from the config file {path}) is not a setting"]


def test_a_missing_or_broken_config_file_is_refused(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.CONFIG_VARIABLE, str(tmp_path / "nowhere.toml"))
    with pytest.raises(SettingsInvalid, match="nowhere.toml does not exist"):
        load()
    broken = toml(tmp_path, "audit_interval = \n")
    with pytest.raises(SettingsInvalid, match="is not TOML"):
        load(config_file=broken)


def test_a_secret_and_its_file_together_are_refused(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCEONLY_DATABASE_URL", "sqlite:///a.sqlite")
    monkeypatch.setenv("ONCEONLY_DATABASE_URL_FILE", str(tmp_path / "url"))
    with pytest.raises(SettingsInvalid, match="ONCEONLY_DATABASE_URL and "
                                              "ONCEONLY_DATABASE_URL_FILE are both set"):
        load()
    monkeypatch.delenv("ONCEONLY_DATABASE_URL")
    with pytest.raises(SettingsInvalid, match="ONCEONLY_DATABASE_URL_FILE: cannot read"):
        load()


def test_only_secrets_are_read_from_files(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "org").write_text("GOV/FROM-FILE")
    monkeypatch.setenv("ONCEONLY_OPERATOR_ORG_FILE", str(tmp_path / "org"))
    assert load().settings.operator_org == "GOV/EXCHANGE"
    assert set(config.SECRETS) == {"database_url"}


def test_shown_masks_a_password_and_names_unset_and_empty() -> None:
    assert shown("database_url", "postgresql+psycopg://app:hunter2@db:5432/x") == \
        "postgresql+psycopg://app:***@db:5432/x"
    assert shown("database_url", "sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    assert shown("master_key_file", None) == "(unset)"
    assert shown("require_signatures", "") == "(empty)"
    assert shown("audit_interval", 2.5) == "2.5"
