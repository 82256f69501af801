"""No Docker engine runs on our machines, so the compose file is checked by reading it."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_stack_has_the_five_services(compose):
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "beat"}


def test_app_services_share_one_image_built_from_the_dockerfile(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert images == {"salesprep:latest"}
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
        assert services[name]["environment"]["DEBUG"] == "false"
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://redis:6379")
    assert (ROOT / "Dockerfile").exists()


def test_the_app_definition_is_written_once_through_an_anchor():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "x-app: &app" in text
    assert text.count("<<: *app") == 3


def test_web_migrates_before_it_starts_gunicorn(compose):
    command = compose["services"]["web"]["command"]
    assert command.index("manage.py migrate") < command.index("gunicorn salesprep.wsgi")


def test_worker_and_beat_run_celery(compose):
    assert compose["services"]["worker"]["command"][:4] == ["celery", "-A", "salesprep", "worker"]
    assert compose["services"]["beat"]["command"][:4] == ["celery", "-A", "salesprep", "beat"]


def test_redis_keeps_an_append_only_file(compose):
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"


def test_every_service_but_beat_has_a_health_check(compose):
    for name in ("postgres", "redis", "web", "worker"):
        assert compose["services"][name]["healthcheck"]["test"], name
    assert compose["services"]["web"]["healthcheck"]["test"][-1] == "salesprep.healthcheck"


def test_app_services_wait_for_healthy_dependencies(compose):
    for name in ("web", "worker"):
        depends = compose["services"][name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def test_the_database_lives_on_a_named_volume(compose):
    assert "pgdata" in compose["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


def test_the_secret_key_must_be_supplied(compose):
    assert compose["services"]["web"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_the_dockerfile_installs_from_the_lock_file_and_runs_unprivileged():
    text = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev" in text
    assert "collectstatic" in text
    assert "\nUSER salesprep" in text
