"""docker-compose.yml is checked without Docker: against the Compose specification, its paths and its variables.

Docker cannot run on the build machine, so the file is held to the specification's JSON schema (the copy
docker-compose 1.29.2 ships, fetched by `make compose-schema`), and every path, variable and service it
names is checked against the repository and `.env.example`.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = PROJECT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT / ".env.example"
SCHEMA_DIR = PROJECT / "var" / "compose-spec"
SCHEMA_MEMBER = "compose/config/compose_spec.json"
# `${NAME}`, `${NAME:?message}`, `${NAME:-default}`; `$${NAME}` is a literal `$` for the container's shell.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(?:[:?\-][^}]*)?\}")
# Read inside a container, from the environment `env_file: .env` gives it: `$${NAME}` or `os.environ['NAME']`.
CONTAINER_VARIABLE = re.compile(r"\$\$\{([A-Z_][A-Z0-9_]*)\}|environ\['([A-Z_][A-Z0-9_]*)'\]")
# Set by the container runtime itself.
RUNTIME_VARIABLES = {"HOSTNAME"}
# The Airflow 3.3 CeleryExecutor stack of issue 8, the toolkit's own databases, the receivers' stand-ins.
REQUIRED_SERVICES = {
    "airflow-db", "redis", "airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
    "airflow-worker", "airflow-triggerer", "curated-db", "legacy-db", "gateway", "exchange-agent",
}  # fmt: skip
SECRET_KEYS = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN", re.IGNORECASE)
# Keys that name a secret but hold a switch or a file path, never the secret itself.
NOT_SECRETS = {"MARIADB_RANDOM_ROOT_PASSWORD", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"}


def compose_schema() -> dict[str, Any]:
    """The Compose specification's JSON schema; skips without it, unless CI is set, where it fails."""
    wheels = sorted(SCHEMA_DIR.glob("docker_compose-*.whl"))
    if not wheels:
        message = f"the Compose schema is not fetched: run `make compose-schema` (looked in {SCHEMA_DIR})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with zipfile.ZipFile(wheels[-1]) as wheel:
        return json.loads(wheel.read(SCHEMA_MEMBER))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def env_example_names() -> set[str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if "=" in line and not line.lstrip().startswith("#")}


def test_compose_file_follows_the_compose_specification(compose):
    schema = compose_schema()
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(compose)]
    assert errors == []


def test_schema_check_refuses_a_broken_file(compose):
    """The schema check above can fail: a misspelt key and a wrong type are both refused."""
    validator = jsonschema.Draft201909Validator(compose_schema())
    broken = json.loads(json.dumps(compose))
    broken["services"]["redis"]["healthcheck"]["retries"] = "five"
    broken["services"]["redis"]["restart_policy"] = "always"
    assert len(list(validator.iter_errors(broken))) == 2


def test_stack_has_every_service_with_a_health_check(compose):
    services = compose["services"]
    assert sorted(REQUIRED_SERVICES - set(services)) == []
    one_shot = {name for name, service in services.items() if service.get("restart") == "no"}
    unchecked = sorted(name for name in set(services) - one_shot if "healthcheck" not in services[name])
    assert unchecked == []


def test_dependencies_name_existing_services(compose):
    services = compose["services"]
    for name, service in services.items():
        assert set(service.get("depends_on") or {}) <= set(services), name


def test_every_referenced_path_exists(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build.get("context", ".")
            assert (PROJECT / context / "Dockerfile").is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                assert (PROJECT / source).exists(), f"{name}: {source}"
            else:
                assert source in (compose.get("volumes") or {}), f"{name}: named volume {source} not declared"


def test_every_variable_is_documented_in_env_example():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    in_containers = {shell or python for shell, python in CONTAINER_VARIABLE.findall(text)}
    used = set(INTERPOLATION.findall(text)) | in_containers
    documented = env_example_names()
    assert sorted(used - documented - RUNTIME_VARIABLES) == []
    # Variables Airflow itself reads from the environment (connections) need no reference in the file.
    unused = {name for name in documented - used if not name.startswith("AIRFLOW_CONN_")}
    assert sorted(unused) == []


def test_no_secret_is_written_in_the_file(compose):
    def environments() -> list[tuple[str, str, Any]]:
        found = []
        for name, service in compose["services"].items():
            environment = service.get("environment") or {}
            if isinstance(environment, list):
                environment = dict(item.split("=", 1) for item in environment)
            found += [(name, key, value) for key, value in environment.items()]
        return found

    literal_secrets = [
        (service, key)
        for service, key, value in environments()
        if SECRET_KEYS.search(key) and key not in NOT_SECRETS and "${" not in str(value)
    ]
    assert literal_secrets == []
    assert all(not value for name, value in _env_example_values().items() if SECRET_KEYS.search(name))


def _env_example_values() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    # Compose reads a single-quoted value literally, without its quotes.
    return {name: value.removeprefix("'").removesuffix("'") for name, value in pairs}


def _connection(value: str) -> tuple[str, str | None]:
    """(host name, login) of an Airflow connection given as a URI or as JSON (whose host may be a URL)."""
    if value.startswith("{"):
        fields = json.loads(value)
        host = fields["host"]
        return (urlsplit(host).hostname if "://" in host else host), fields.get("login")
    parts = urlsplit(value)
    return parts.hostname or "", parts.username


def test_every_connection_points_at_a_service_of_the_stack(compose):
    from exchange.orchestration import RECEIVERS

    values = _env_example_values()
    connections = {
        name.removeprefix("AIRFLOW_CONN_").lower(): _connection(value)
        for name, value in values.items()
        if name.startswith("AIRFLOW_CONN_")
    }
    assert sorted({"legacy_supervision", "curated", *RECEIVERS} - set(connections)) == []
    hosts = {conn_id: host for conn_id, (host, _) in connections.items()}
    assert {conn_id: host for conn_id, host in hosts.items() if host not in compose["services"]} == {}
    # The gateway receivers sign with the one app key the stand-in grants.
    logins = {connections[receiver][1] for receiver in RECEIVERS if hosts[receiver] == "gateway"}
    assert logins == {values["GATEWAY_APP_KEY"]}
