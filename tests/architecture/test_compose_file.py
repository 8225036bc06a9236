"""compose.yaml held to what it deploys, with no registry: the image the Containerfile
builds, the settings it sets (each one a setting, valid, and those a deployment needs
present), the commands it runs (each one the command line's, with options it has), its
ports and health checks (the routes the server has), its volumes (every file a setting
names is mounted), and the order of its one-shot steps before the servers start.
tests/e2e/test_compose_services.py runs the same commands for real."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
import yaml

from onceonly.config import SECRETS, Settings, parse_database_url, variable
from onceonly.entrypoints.api.routes.operations import router as operations
from onceonly.entrypoints.cli import app as cli

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
CONTAINERFILE = (ROOT / "Containerfile").read_text()
CADDYFILE = (ROOT / "container" / "Caddyfile").read_text()
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
IMAGE = f"localhost/onceonly:{VERSION}"  # what container/build.sh tags
EXCHANGE = sorted(name for name, service in SERVICES.items() if service.get("image") == IMAGE)
SERVERS = ["exchange-1", "exchange-2"]
ONE_SHOT = ["migrate", "init"]
# A setting whose value is a file the process reads.
FILE_SETTINGS = {name for name, field in Settings.model_fields.items()
                 if field.annotation in (Path, Path | None)}
SECRETS_DIR = "/run/secrets"


def instruction(name: str) -> str:
    """A Containerfile instruction's arguments (continuation lines joined)."""
    joined = CONTAINERFILE.replace("\\\n", " ")
    [found] = re.findall(rf"^{name} (.+)$", joined, flags=re.MULTILINE)
    return found.strip()


def exec_form(text: str) -> list[str]:
    return yaml.safe_load(text)  # a JSON array is YAML


def command_of(service: dict[str, Any]) -> list[str]:
    """What the service runs: the image's entry point and its command (else the image's)."""
    command = service.get("command") or exec_form(instruction("CMD"))
    return [*exec_form(instruction("ENTRYPOINT")), *command]


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def probe_url(check: dict[str, Any]) -> str:
    """The URL a `python3 -c ... urlopen(URL)` health check asks."""
    [url] = re.findall(r"urlopen\('([^']+)'", " ".join(check["test"]))
    return url


def parses(args: list[str]) -> str:
    """Parse `args` as the command line would, resolving each command group down to the
    command that runs (its name is returned); click raises UsageError for an unknown
    command or option."""
    command: Any = typer.main.get_command(cli)  # Typer's own click
    context = command.make_context("onceonly", list(args), resilient_parsing=False)
    while hasattr(command, "resolve_command"):  # a group
        rest = [*getattr(context, "_protected_args", []), *context.args]
        name, command, rest = command.resolve_command(context, rest)
        assert command is not None, f"no command {name!r} in `onceonly {shlex.join(args)}`"
        context = command.make_context(name, rest, parent=context)
    return context.info_name


def environment(name: str) -> dict[str, str]:
    return {key: str(value) for key, value in SERVICES[name].get("environment", {}).items()}


def test_the_exchanges_services_run_the_image_the_containerfile_builds():
    assert sorted(SERVICES) == sorted(["postgres", *EXCHANGE, "proxy"])
    assert sorted(["migrate", "init", *SERVERS, "worker"]) == EXCHANGE
    for name in EXCHANGE:
        service = SERVICES[name]
        assert service["read_only"] is True, name
        assert "/tmp" in service["tmpfs"], name


@pytest.mark.parametrize("name", EXCHANGE)
def test_every_variable_set_is_a_valid_setting_and_those_a_deployment_needs_are_set(name):
    known = {variable(field) for field in Settings.model_fields}
    known |= {variable(field) + "_FILE" for field in SECRETS}
    env = environment(name)
    assert set(env) <= known, f"{name} sets what no setting reads: {set(env) - known}"
    # Valid, as `onceonly config --check` would find them.
    Settings(**{field: env[variable(field)] for field in Settings.model_fields
                if variable(field) in env})
    # Unset, these fall back to the demo's defaults: SQLite and a key file beside it.
    url = parse_database_url(env["ONCEONLY_DATABASE_URL"])
    assert url.get_backend_name() == "postgresql"
    assert url.host in SERVICES and url.username == SERVICES[url.host]["environment"][
        "POSTGRES_USER"] and url.database == SERVICES[url.host]["environment"]["POSTGRES_DB"]
    assert env["ONCEONLY_MASTER_KEY_FILE"]
    # Behind the proxy, on its network only.
    assert env["ONCEONLY_TRUSTED_PROXIES"] == COMPOSE["networks"]["exchange"]["ipam"][
        "config"][0]["subnet"]


@pytest.mark.parametrize("name", EXCHANGE)
def test_every_command_run_is_the_command_lines_with_options_it_has(name):
    args = command_of(SERVICES[name])[1:]
    assert parses(args) == (args[1] if args[0] == "db" else args[0])


def test_the_image_runs_the_command_line_and_serves_by_default():
    assert exec_form(instruction("ENTRYPOINT")) == ["onceonly"]
    assert parses(exec_form(instruction("CMD"))) == "serve"


def test_the_init_step_initialises_as_the_operator_the_servers_sign_as_and_tolerates_a_rerun():
    args = command_of(SERVICES["init"])[1:]
    assert args[0] == "init" and "--unless-initialised" in args
    assert option(args, "--operator") == environment("init")["ONCEONLY_OPERATOR_ORG"]
    for name in EXCHANGE:
        assert environment(name)["ONCEONLY_OPERATOR_ORG"] == option(args, "--operator")
    assert command_of(SERVICES["migrate"])[1:] == ["db", "upgrade"]


def test_the_servers_start_after_the_one_shot_steps_in_order():
    def after(name: str) -> dict[str, str]:
        return {other: rule["condition"] for other, rule in SERVICES[name]["depends_on"].items()}

    assert after("migrate") == {"postgres": "service_healthy"}
    assert after("init") == {"migrate": "service_completed_successfully"}
    for name in [*SERVERS, "worker"]:
        assert after(name) == {"init": "service_completed_successfully"}, name
    for name in ONE_SHOT:
        assert SERVICES[name]["restart"] == "no", name
        assert SERVICES[name]["healthcheck"] == {"disable": True}, name
    assert after("proxy") == {server: "service_healthy" for server in SERVERS}
    assert SERVICES["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]


def test_ports_and_health_checks_are_the_servers_own():
    routes = {route.path for route in operations.routes}
    assert {"/livez", "/readyz"} <= routes
    # The image alone: alive (a database away makes it unready, not dead).
    image_probe = urlsplit(re.search(r"'(http://[^']+)'", instruction("HEALTHCHECK")).group(1))
    assert image_probe.path == "/livez"
    assert instruction("EXPOSE") == str(image_probe.port)
    for name in SERVERS:
        args = command_of(SERVICES[name])[1:]
        port = int(option(args, "--port"))
        assert option(args, "--host") == "0.0.0.0" and port == image_probe.port
        probe = urlsplit(probe_url(SERVICES[name]["healthcheck"]))
        assert (probe.hostname, probe.port, probe.path) == ("127.0.0.1", port, "/readyz")
    # The proxy sends to each server's port, and only while it is ready.
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", CADDYFILE).group(1).split()
    assert upstreams == [f"{name}:{image_probe.port}" for name in SERVERS]
    assert re.search(r"health_uri (\S+)", CADDYFILE).group(1) == "/readyz"
    # The worker serves its figures, and is healthy while it does.
    worker = command_of(SERVICES["worker"])[1:]
    assert option(worker, "--metrics-host") == "0.0.0.0"
    probe = urlsplit(probe_url(SERVICES["worker"]["healthcheck"]))
    assert (probe.port, probe.path) == (int(option(worker, "--metrics-port")), "/metrics")


@pytest.mark.parametrize("name", EXCHANGE)
def test_every_file_a_setting_names_is_mounted_and_the_rest_is_a_volume(name):
    service = SERVICES[name]
    secrets = set(service.get("secrets", []))
    assert secrets <= set(COMPOSE["secrets"])
    mounts = {entry.split(":")[1] for entry in service.get("volumes", [])} | set(service["tmpfs"])
    env = environment(name)
    for field in FILE_SETTINGS:
        path = env.get(variable(field))
        if not path:
            continue
        where = Path(path)
        mounted = (where.parent == Path(SECRETS_DIR) and where.name in secrets) or any(
            where.is_relative_to(mount) for mount in mounts)
        assert mounted, f"{name}: {variable(field)}={path} is on no secret, volume or tmpfs"
    # The master keys are a secret, apart from the database's volume.
    assert env["ONCEONLY_MASTER_KEY_FILE"] == f"{SECRETS_DIR}/master-keys"
    # What the exchange writes of its own (./onceonly-data) is under its working folder,
    # the image's one volume: the root filesystem is read-only.
    assert instruction("WORKDIR") in exec_form(instruction("VOLUME"))
    assert "USER onceonly:onceonly" in CONTAINERFILE
