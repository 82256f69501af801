from pathlib import Path

import pytest

from salesprep.env import (
    ImproperlyConfiguredEnv,
    env_bool,
    env_int,
    env_list,
    parse_database_url,
    parse_site_url,
)


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "yes", "on", " On "])
def test_env_bool_reads_true_spellings(monkeypatch, raw):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "no", "off", ""])
def test_env_bool_reads_false_spellings(monkeypatch, raw):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", True) is False


@pytest.mark.parametrize("raw", ["treu", "2", "enabled", "y e s"])
def test_env_bool_refuses_anything_else_and_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("FLAG", raw)
    with pytest.raises(ImproperlyConfiguredEnv, match="FLAG"):
        env_bool("FLAG", True)


def test_env_bool_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("FLAG", raising=False)
    assert env_bool("FLAG", True) is True


def test_env_int_refuses_non_numbers_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("N", "twelve")
    with pytest.raises(ImproperlyConfiguredEnv, match="not a whole number"):
        env_int("N", 1)
    monkeypatch.setenv("N", "-3")
    with pytest.raises(ImproperlyConfiguredEnv, match="below the minimum"):
        env_int("N", 1, minimum=0)
    monkeypatch.setenv("N", "42")
    assert env_int("N", 1, minimum=0) == 42


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", "example.com, www.example.com,,")
    assert env_list("HOSTS") == ["example.com", "www.example.com"]


def test_database_url_reads_postgres_with_credentials_and_options():
    db = parse_database_url(
        "postgres://app:s%40cret@db.internal:6543/salesprep?sslmode=require", base_dir=Path("/x")
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "app",
        "s@cret",
        "db.internal",
        "6543",
        "salesprep",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_database_url_reads_relative_and_absolute_sqlite_paths():
    assert parse_database_url("sqlite:///var/db.sqlite3", base_dir=Path("/srv/app"))["NAME"] == (
        "/srv/app/var/db.sqlite3"
    )
    assert parse_database_url("sqlite:////tmp/db.sqlite3", base_dir=Path("/srv"))["NAME"] == (
        "/tmp/db.sqlite3"
    )


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/x", "postgres://localhost/", "sqlite://", "nonsense"]
)
def test_database_url_refuses_what_it_cannot_use(url):
    with pytest.raises(ImproperlyConfiguredEnv):
        parse_database_url(url, base_dir=Path("/x"))


def test_the_embedded_broker_writes_only_under_the_var_dir_and_no_load_test_app_is_installed(
    tmp_path,
):
    import json

    from tests.helpers import manage, project_env

    var = tmp_path / "var"
    env = project_env(SALESPREP_VAR_DIR=str(var), REDIS_URL=None, DEBUG="true")
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'options': s.CELERY_BROKER_TRANSPORT_OPTIONS, 'apps': s.INSTALLED_APPS}))"
    )
    result = manage("shell", "--no-imports", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    options = found["options"]
    folders = {k: v for k, v in options.items() if k.endswith(("_folder", "_folder_in", "_out"))}
    assert set(folders) == {
        "data_folder_in",
        "data_folder_out",
        "processed_folder",
        "control_folder",
    }
    for folder in folders.values():
        assert Path(folder).is_relative_to(var), folder
        assert Path(folder).is_dir(), folder
    assert "loadtest" not in found["apps"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://sales.example.com", "https://sales.example.com"),
        ("https://Sales.Example.com/", "https://sales.example.com"),
        (" http://127.0.0.1:8000/ ", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_site_url_reads_an_http_address_without_a_path(raw, expected):
    assert parse_site_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("sales.example.com", "does not start with http:// or https://"),
        ("ftp://sales.example.com", "does not start with http:// or https://"),
        ("javascript:alert(1)", "does not start with http:// or https://"),
        ("https://", "has no host name"),
        ("https://sales.example.com/app", "has a path, query or fragment"),
        ("https://sales.example.com/?next=/", "has a path, query or fragment"),
        ("https://sales.example.com#top", "has a path, query or fragment"),
        ("https://admin:secret@sales.example.com", "holds a user name or password"),
        ("https://sales.example.com:99999", "is not a URL"),
        ("https://sales example.com", "contains spaces or control characters"),
        ("https://sales.example.com\r\nX: y", "contains spaces or control characters"),
    ],
)
def test_site_url_refuses_what_a_link_cannot_start_with_and_says_why(raw, reason):
    with pytest.raises(ImproperlyConfiguredEnv, match="SITE_URL") as refused:
        parse_site_url(raw)
    assert reason in str(refused.value)


def test_a_bad_site_url_stops_the_settings_from_loading_with_a_clear_message():
    from tests.helpers import manage, project_env

    result = manage("check", env=project_env(SITE_URL="https://sales.example.com/salesprep"))
    assert result.returncode != 0
    assert "SITE_URL='https://sales.example.com/salesprep' has a path" in result.stderr
    good = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SITE_URL)",
        env=project_env(SITE_URL="https://sales.example.com/"),
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip().splitlines()[-1] == "https://sales.example.com"
