"""Production settings: `check --deploy` is clean, and a missing secret stops start-up."""

import secrets

from tests.helpers import manage, project_env

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "example.com",
    "SITE_URL": "https://example.com",
}


def test_production_settings_pass_the_deployment_checklist_without_warnings(tmp_path):
    env = project_env(**PRODUCTION, SALESPREP_VAR_DIR=str(tmp_path))
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_checklist_warns_while_e_mail_links_point_to_localhost(tmp_path):
    env = project_env(**PRODUCTION, SALESPREP_VAR_DIR=str(tmp_path))
    env.pop("SITE_URL")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "accounts.W001" in result.stderr + result.stdout
    assert "SITE_URL is http://localhost:8000" in result.stderr + result.stdout


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
    # Nothing was migrated or seeded (system checks may open the file, but create nothing).
    db_file = tmp_path / "db.sqlite3"
    if db_file.exists():
        import sqlite3

        with sqlite3.connect(db_file) as conn:
            tables = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        assert tables == []


def test_production_cookies_and_headers_are_hardened(tmp_path):
    env = project_env(**PRODUCTION, SALESPREP_VAR_DIR=str(tmp_path))
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
        "'httponly': s.SESSION_COOKIE_HTTPONLY, 'samesite': s.SESSION_COOKIE_SAMESITE,"
        "'ssl_redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS,"
        "'hsts_sub': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, 'frame': s.X_FRAME_OPTIONS,"
        "'nosniff': s.SECURE_CONTENT_TYPE_NOSNIFF, 'debug': s.DEBUG,"
        "'session_age': s.SESSION_COOKIE_AGE}))"
    )
    result = manage("shell", "--no-imports", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    import json

    flags = json.loads(result.stdout.strip().splitlines()[-1])
    assert flags == {
        "session_secure": True,
        "csrf_secure": True,
        "httponly": True,
        "samesite": "Lax",
        "ssl_redirect": True,
        "hsts": 31536000,
        "hsts_sub": True,
        "frame": "DENY",
        "nosniff": True,
        "debug": False,
        "session_age": 12 * 3600,
    }


# What the HTTPS redirect does with a request, as SecurityMiddleware decides it in production
# settings: the redirect target (or "" when the request goes through), and is_secure().
HTTPS_DECISIONS = (
    "import json; from django.http import HttpResponse; from django.test import RequestFactory;"
    "from django.conf import settings as s;"
    "from django.middleware.security import SecurityMiddleware;"
    "m = SecurityMiddleware(lambda r: HttpResponse()); f = RequestFactory();"
    "spoof = {'X-Forwarded-Proto': 'https', 'Host': 'example.com'};"
    "plain = {'Host': 'example.com'};"
    "go = lambda r: getattr(m.process_request(r), 'url', '');"
    "print(json.dumps({'header': s.SECURE_PROXY_SSL_HEADER,"
    "'forwarded_secure': f.get('/accounts/', headers=spoof).is_secure(),"
    "'forwarded': go(f.get('/accounts/', headers=spoof)),"
    "'plain': go(f.get('/accounts/', headers=plain)),"
    "'healthz': go(f.get('/healthz', headers=plain))}))"
)


def https_decisions(tmp_path, **extra) -> dict:
    import json

    env = project_env(**PRODUCTION, SALESPREP_VAR_DIR=str(tmp_path), **extra)
    result = manage("shell", "--no-imports", "-c", HTTPS_DECISIONS, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_x_forwarded_proto_from_a_client_is_not_believed_without_a_proxy_setting(tmp_path):
    decisions = https_decisions(tmp_path, BEHIND_HTTPS_PROXY=None)
    assert decisions == {
        "header": None,
        "forwarded_secure": False,
        "forwarded": "https://example.com/accounts/",
        "plain": "https://example.com/accounts/",
        "healthz": "",  # the container's health check asks over plain HTTP
    }


def test_behind_an_https_proxy_its_x_forwarded_proto_is_believed(tmp_path):
    decisions = https_decisions(tmp_path, BEHIND_HTTPS_PROXY="true")
    assert decisions == {
        "header": ["HTTP_X_FORWARDED_PROTO", "https"],
        "forwarded_secure": True,
        "forwarded": "",
        "plain": "https://example.com/accounts/",
        "healthz": "",
    }


def test_a_misspelt_proxy_setting_stops_start_up_with_its_name(tmp_path):
    env = project_env(**PRODUCTION, SALESPREP_VAR_DIR=str(tmp_path), BEHIND_HTTPS_PROXY="ja")
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "BEHIND_HTTPS_PROXY='ja' is not a boolean" in result.stderr
