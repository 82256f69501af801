import json
import subprocess
import sys

from tests.helpers import ROOT, project_env


def test_healthz_answers_200_with_the_database_and_broker_state(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"  # Redis is up in the test environment
    assert "no-cache" in response["Cache-Control"]


def test_healthz_needs_no_login(client, db):
    assert client.get("/healthz").status_code == 200


def test_healthz_reports_a_broker_that_is_down(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    from salesprep.celery import app

    app.conf.broker_url = settings.REDIS_URL
    try:
        body = client.get("/healthz").json()
    finally:
        app.conf.broker_url = settings.CELERY_BROKER_URL
    assert body["broker"] == "down"


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    """Run the real app in a child process pointed at a PostgreSQL port nobody listens on."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = project_env(
        DJANGO_SETTINGS_MODULE="salesprep.settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing",
        SALESPREP_VAR_DIR=str(tmp_path),
        ALLOWED_HOSTS="testserver",
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["status"] == "error"
    assert answer["body"]["database"] == "OperationalError"
