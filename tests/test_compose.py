"""No Docker engine runs on our machines, so the compose file and the image are checked by
reading them: each test names one promise of README's "Production-like stack"."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def instruction(dockerfile: str, name: str) -> list[str]:
    """Every ``NAME ...`` line of the Dockerfile (continuations joined), without the name."""
    joined = dockerfile.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def settings_read() -> set[str]:
    """The environment variables salesprep/settings.py reads through salesprep/env.py."""
    text = (ROOT / "salesprep" / "settings.py").read_text()
    return set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', text))


def test_the_stack_has_the_services(services):
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}


def test_app_services_share_one_image_built_from_the_dockerfile(services):
    assert {services[name]["image"] for name in APP_SERVICES} == {"salesprep:local"}
    for name in APP_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["environment"]["DEBUG"] == "false"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://redis:6379")
    assert (ROOT / "Dockerfile").exists()


def test_the_app_definition_is_written_once_through_an_anchor():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "x-app: &app" in text
    assert text.count("<<: *app") == len(APP_SERVICES)


# --- Published ports --------------------------------------------------------------------------


def test_port_8000_is_published_on_localhost_unless_a_bind_address_is_set(services):
    assert services["web"]["ports"] == ["${BIND_ADDRESS:-127.0.0.1}:8000:8000"]


def test_no_service_publishes_a_port_on_every_interface(services):
    for name, service in services.items():
        for port in service.get("ports", []):
            host = str(port).rsplit(":", 2)[0]
            assert host in ("127.0.0.1", "${BIND_ADDRESS:-127.0.0.1}"), (name, port)


# --- Settings from .env -----------------------------------------------------------------------


def test_app_services_read_their_settings_from_an_optional_env_file(services):
    for name in APP_SERVICES:
        assert services[name]["env_file"] == [{"path": ".env", "required": False}], name


def test_the_compose_file_sets_only_what_ties_the_app_to_its_services(services):
    """Everything else (mail, hosts, sources...) comes from .env, so no setting is lost."""
    for name in APP_SERVICES:
        assert set(services[name]["environment"]) == {
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "REDIS_URL",
        }, name


def test_the_secret_key_must_be_supplied(services):
    for name in APP_SERVICES:
        assert services[name]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?"), name


def test_env_example_documents_every_setting_the_app_reads():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^(?:# )?([A-Z0-9_]+)=", text, re.MULTILINE))
    assert settings_read() - documented == set()
    assert "BIND_ADDRESS" in documented
    # Placeholders are safe: no secret key to copy, and the proxy header is not trusted.
    assert re.search(r"^SECRET_KEY=$", text, re.MULTILINE)
    assert re.search(r"^BEHIND_HTTPS_PROXY=false$", text, re.MULTILINE)


def test_env_example_sets_no_boolean_to_an_empty_value():
    """An empty boolean reads as false (salesprep/env.py), which would turn a default off."""
    text = (ROOT / ".env.example").read_text()
    settings = (ROOT / "salesprep" / "settings.py").read_text()
    booleans = set(re.findall(r'env_bool\(\s*"([A-Z0-9_]+)"', settings))
    for name in booleans:
        assert not re.search(rf"^{name}=\s*$", text, re.MULTILINE), name


def test_the_env_file_is_kept_out_of_git_and_the_image():
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


# --- Processes and graceful stop --------------------------------------------------------------


def test_migrations_run_once_in_a_one_shot_service_before_web_starts(services):
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert services["web"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_web_runs_gunicorn_itself_as_pid_1(services, dockerfile):
    """No ``sh -c`` in between: the SIGTERM of ``docker compose stop`` reaches gunicorn."""
    assert "command" not in services["web"] and "entrypoint" not in services["web"]
    assert instruction(dockerfile, "ENTRYPOINT") == []
    (cmd,) = instruction(dockerfile, "CMD")
    argv = json.loads(cmd)  # the exec form; a shell form would not be JSON
    assert argv[:2] == ["gunicorn", "salesprep.wsgi:application"]


def test_gunicorn_finishes_requests_in_flight_before_compose_kills_it(services, dockerfile):
    argv = json.loads(instruction(dockerfile, "CMD")[0])
    graceful = int(argv[argv.index("--graceful-timeout") + 1])
    assert graceful < int(services["web"]["stop_grace_period"].removesuffix("s"))


def test_no_service_wraps_its_command_in_a_shell(services):
    for name, service in services.items():
        for key in ("command", "entrypoint"):
            value = service.get(key)
            if value is not None:
                assert isinstance(value, list), (name, key)
                assert value[0] not in ("sh", "bash", "/bin/sh", "/bin/bash"), (name, key)


def test_worker_and_beat_run_celery(services):
    assert services["worker"]["command"][:4] == ["celery", "-A", "salesprep", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "salesprep", "beat"]


def test_redis_keeps_an_append_only_file(services):
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


# --- Health ------------------------------------------------------------------------------------


def test_every_long_running_service_but_beat_has_a_health_check_with_a_start_period(services):
    for name in ("postgres", "redis", "web", "worker"):
        check = services[name]["healthcheck"]
        assert check["test"], name
        assert check["start_period"], name


def test_the_health_checks_ask_each_service_itself(services):
    assert services["web"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "salesprep.healthcheck",
    ]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_app_services_wait_for_healthy_dependencies(services):
    for name in ("migrate", "web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"]["condition"] == "service_healthy", name


# --- Images -----------------------------------------------------------------------------------


def pinned(image: str) -> bool:
    """An exact release (``17.6``, ``7.4.5``, ``3.13.7``, with an OS suffix at most): not
    ``latest``, not a bare major or major.minor that moves under you."""
    name, _, tag = image.partition(":")
    version = tag.split("-", 1)[0]
    if name == "salesprep":  # the image this file builds
        return tag not in ("", "latest")
    parts = version.split(".")
    if not all(part.isdigit() for part in parts):
        return False
    return len(parts) >= (2 if name == "postgres" else 3)  # PostgreSQL: major.minor is exact


def test_every_image_is_pinned_to_an_exact_release(services, dockerfile):
    for name, service in services.items():
        assert pinned(service["image"]), (name, service["image"])
    for base in instruction(dockerfile, "FROM"):
        assert pinned(base.split()[0]), base
    assert not pinned("postgres:17") and not pinned("redis:7") and not pinned("redis:latest")
    assert not pinned("python:3.13-slim-bookworm") and not pinned("salesprep:latest")


def test_the_database_keeps_its_major_version(services):
    """A new major needs a dump and restore of the pgdata volume: bump it on purpose only."""
    assert services["postgres"]["image"].startswith("postgres:17.")


def test_the_database_lives_on_a_named_volume(compose, services):
    assert "pgdata" in compose["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]


def test_the_dockerfile_installs_from_the_lock_file_and_runs_unprivileged(dockerfile):
    assert "uv sync --frozen --no-dev" in dockerfile
    assert re.search(r"pip install --no-cache-dir uv==\d+\.\d+\.\d+", dockerfile)
    assert "collectstatic" in dockerfile
    assert "\nUSER salesprep" in dockerfile


# --- The repository ----------------------------------------------------------------------------


def test_the_embedded_broker_s_folders_are_ignored_and_not_committed():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "var/" in ignored and "control/" in ignored
    tracked = subprocess.run(
        ["git", "ls-files", "--", "control", "var"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert tracked == ""
