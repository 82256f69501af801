"""Production settings: `check --deploy` is clean, and a missing secret stops start-up."""

import secrets

from tests.helpers import manage, project_env

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "example.com",
}


def test_production_settings_pass_the_deployment_checklist_without_warnings(tmp_path):
    env = project_env(**PRODUCTION, SALESPREP_VAR_DIR=str(tmp_path))
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_start_up_fails_fast_without_a_secret_key_when_debug_is_off(tmp_path):
    env = project_env(DEBUG="false", SECRET_KEY=None, SALESPREP_VAR_DIR=str(tmp_path))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_a_misspelt_boolean_stops_start_up_with_the_variable_name(tmp_path):
    env = project_env(DEBUG="ture", SALESPREP_VAR_DIR=str(tmp_path))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_the_demo_refuses_to_create_known_passwords_when_debug_is_off(tmp_path):
    env = project_env(**PRODUCTION, SALESPREP_VAR_DIR=str(tmp_path), DATABASE_URL=None)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = manage("demo", "--seed-only", env=env)
    assert result.returncode != 0
    assert "Refusing to create demo users" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists() or (tmp_path / "db.sqlite3").stat().st_size == 0
