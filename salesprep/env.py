"""Small helpers that read settings from the environment and refuse bad values.

A typo in a deployment variable should stop the process at start-up with a message naming the
variable, not silently fall back to a default.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ImproperlyConfiguredEnv(ValueError):
    """An environment variable holds a value we cannot use."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfiguredEnv(
        f"{name}={raw!r} is not a boolean; use one of true/false, yes/no, on/off, 1/0."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_mapping(name: str) -> dict[str, str]:
    """A comma-separated list of ``key=value`` pairs (``sales-reps=Rep,east-sales=East``)."""
    mapping = {}
    for item in env_list(name):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfiguredEnv(
                f"{name} holds {item!r}; write pairs like group=value, separated by commas."
            )
        mapping[key.strip()] = value.strip()
    return mapping


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower() or default
    if value not in choices:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} is not one of {', '.join(choices)}.")
    return value


def env_issuer_url(name: str) -> str:
    """An OpenID Connect issuer: https, or plain http on this machine only (a test provider)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    loopback = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise ImproperlyConfiguredEnv(
            f"{name}={raw!r} is not an https:// URL (such as https://login.example.com/realms/x)."
        )
    return raw.rstrip("/")


def env_networks(name: str) -> list[str]:
    """A comma-separated list of IP addresses or networks (``10.0.0.0/8``), checked."""
    networks = []
    for item in env_list(name):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ImproperlyConfiguredEnv(
                f"{name} holds {item!r}, which is not an IP address or network "
                "(e.g. 10.0.0.5 or 10.0.0.0/8)."
            ) from None
    return networks


def parse_database_url(url: str, *, base_dir: Path) -> dict:
    """Turn ``postgres://user:pass@host:port/name`` or ``sqlite:///path`` into DATABASES[...]."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative/path or sqlite:////absolute/path
        raw_path = unquote(parts.path)
        if not raw_path or raw_path == "/":
            raise ImproperlyConfiguredEnv("DATABASE_URL for SQLite needs a file path.")
        path = Path(raw_path[1:])
        if not path.is_absolute():
            path = base_dir / path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfiguredEnv("DATABASE_URL for PostgreSQL needs a database name.")
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
        }
    raise ImproperlyConfiguredEnv(
        f"DATABASE_URL scheme {scheme!r} is not supported; use postgres:// or sqlite:///."
    )


def parse_site_url(raw: str, *, name: str = "SITE_URL") -> str:
    """The site's public address as ``scheme://host[:port]``: an http(s) URL with a host and
    no path beyond "/", no query, fragment or credentials (every absolute link appends a
    path to it)."""
    value = raw.strip()

    def refuse(reason: str) -> ImproperlyConfiguredEnv:
        return ImproperlyConfiguredEnv(
            f"{name}={raw!r} {reason}; set it to the address people open, such as "
            "https://sales.example.com."
        )

    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise refuse("contains spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a port that is not a number, or out of range, raises here
    except ValueError:
        raise refuse("is not a URL") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise refuse("does not start with http:// or https://")
    if not parts.hostname:
        raise refuse("has no host name")
    if parts.username is not None or parts.password is not None:
        raise refuse("holds a user name or password")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or "?" in value:
        raise refuse("has a path, query or fragment after the host")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
