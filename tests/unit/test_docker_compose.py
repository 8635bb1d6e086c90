"""docker-compose.yml checked structurally (no Docker engine here): commands, queues, variables."""

import json
import shlex
from pathlib import Path
from typing import Any

import click
import yaml

import celeryconfig
from services.settings import documented
from tasks.cli import main as greenhouse_cli
from tasks.cli_health import health

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = {name: s for name, s in SERVICES.items() if s.get("image") == "greenhouse:latest"}
QUEUES = {queue.name for queue in celeryconfig.task_queues}


def _queues_of(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(",")) if "-Q" in command else set()


def test_every_process_runs_from_the_one_image_built_here() -> None:
    assert set(APP_SERVICES) >= {"worker-identification", "worker-background", "beat", "flower"}
    assert all(service["build"] == "." for service in APP_SERVICES.values())
    assert (ROOT / "Dockerfile").exists()


def test_every_celery_command_names_the_real_app_and_real_queues() -> None:
    consumed: set[str] = set()
    for service in APP_SERVICES.values():
        command = service["command"]
        if command[0] == "celery":
            assert command[1:3] == ["-A", "tasks"]
            assert command[3] in {"worker", "beat", "flower"}
            assert _queues_of(command) <= QUEUES
            consumed |= _queues_of(command)
    assert consumed == QUEUES


def test_every_greenhouse_command_exists() -> None:
    for service in APP_SERVICES.values():
        command = service["command"]
        if command[0] == "greenhouse":
            context = click.Context(greenhouse_cli)
            group: Any = greenhouse_cli
            for word in command[1:]:
                group = group.get_command(context, word)
                assert group is not None, command


def test_every_variable_set_is_one_the_settings_read() -> None:
    known = {name for name, _default, _doc in documented()}
    for name, service in APP_SERVICES.items():
        assert set(service["environment"]) <= known, name


def test_redis_keeps_its_data_and_never_evicts() -> None:
    command = " ".join(SERVICES["redis"]["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert "--appendfsync always" in command  # a crash loses nothing Redis acknowledged
    assert "healthcheck" in SERVICES["redis"]


def test_flower_credentials_come_from_the_environment_not_the_file() -> None:
    auth = SERVICES["flower"]["environment"]["FLOWER_BASIC_AUTH"]
    assert auth.startswith("${") and ":?" in auth


def test_the_image_runs_a_worker_by_default_from_pinned_versions_without_the_local_kit() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    command = json.loads(dockerfile.split("\nCMD ", 1)[1].splitlines()[0])
    assert command[:4] == ["celery", "-A", "tasks", "worker"]
    assert "-c constraints.txt" in dockerfile
    assert "[local" not in dockerfile  # no embedded Redis server in the image


def _healthcheck(service: dict[str, Any]) -> list[str]:
    """The healthcheck's command as words, `$$HOSTNAME` as the container's shell expands it."""
    test = service["healthcheck"]["test"]
    if test[0] == "CMD-SHELL":
        return shlex.split(test[1].replace("$$HOSTNAME", "host-1"))
    assert test[0] == "CMD"
    return list(test[1:])


def _health_options(command: list[str]) -> dict[str, Any]:
    """`greenhouse health …` parsed by the real command (an unknown option fails here)."""
    assert command[:2] == ["greenhouse", "health"], command
    return dict(health.make_context("health", command[2:]).params)


def test_every_app_healthcheck_is_a_valid_greenhouse_health_command() -> None:
    checked = [name for name, service in APP_SERVICES.items() if "healthcheck" in service]
    assert {"worker-identification", "worker-background", "beat", "flower"} <= set(checked)
    for name in set(checked) - {"flower"}:
        _health_options(_healthcheck(APP_SERVICES[name]))


def test_flower_runs_guarded_and_its_health_is_its_open_healthcheck_page() -> None:
    flower = APP_SERVICES["flower"]
    assert flower["command"] == ["greenhouse", "flower"]
    assert {"FLOWER_BASIC_AUTH", "FLOWER_COOKIE_SECRET"} <= set(flower["environment"])
    assert "http://127.0.0.1:5555/healthcheck" in " ".join(flower["healthcheck"]["test"])


def test_a_worker_container_checks_its_own_heartbeat_and_nothing_else() -> None:
    """Another replica serving the queue must not hide this one's death, and beat or another
    queue's workers being down must not make this container unhealthy."""
    for service in APP_SERVICES.values():
        command = service["command"]
        if command[:4] != ["celery", "-A", "tasks", "worker"]:
            continue
        options = _health_options(_healthcheck(service))
        node = command[command.index("-n") + 1].replace("%h", "host-1")
        assert options["components"] == ("workers",)
        assert options["nodes"] == (node,) and options["queues"] == ()


def test_the_beat_container_checks_the_scheduler_only() -> None:
    options = _health_options(_healthcheck(SERVICES["beat"]))
    assert options["components"] == ("scheduler",)


def test_identification_waits_on_threads_and_the_rest_computes_on_prefork() -> None:
    pools = {}
    for name, service in APP_SERVICES.items():
        command = service["command"]
        if command[:4] == ["celery", "-A", "tasks", "worker"]:
            environment = {
                **COMPOSE["x-greenhouse"]["environment"],
                **service.get("environment", {}),
            }
            assert "-P" not in command and "--pool" not in command  # the setting decides
            pools[name] = (environment.get("WORKER_POOL", "prefork"), _queues_of(command))
    assert pools["worker-identification"] == ("threads", {"identification"})
    assert pools["worker-background"][0] == "prefork"
    assert "identification" not in pools["worker-background"][1]
