"""Settings an admin may change on the settings screen, with the environment as the default.

``get(key)`` is the one way the code reads them: the value saved on the screen when there is
one (a ``SiteSetting`` row), else the Django setting read from the environment. It reads the
database on every call, a lookup by a unique key, and keeps no copy: the web process and the
worker always use the value last saved, with nothing to invalidate.

``change(...)`` writes a value or returns a setting to its environment default, in one
transaction with its entry in the audit log. The entry names the setting and who changed it;
a secret's value is never written there (nor shown on the screen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts import security
from accounts.models import AuditKind, SiteSetting, User


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    section: str  # "sources" or "security"
    secret: bool = False


SPECS: dict[str, Spec] = {
    spec.key: spec
    for spec in (
        Spec("SEC_CONTACT_EMAIL", "SEC contact e-mail", "sources"),
        Spec("SEC_USER_AGENT", "SEC User-Agent", "sources"),
        Spec("FRED_API_KEY", "FRED API key", "sources", secret=True),
        Spec("EVIDENCE_NEWS_FEEDS", "News feeds", "sources"),
        Spec("MFA_REQUIRED_ROLES", "Roles that must use two-step sign-in", "security"),
    )
}

# Passed to ``change`` instead of a value: delete the saved value, use the environment's.
RESET = object()


def default(key: str) -> Any:
    """The environment's value (the Django setting), a fresh copy of a list."""
    value = getattr(settings, SPECS[key].key)
    return list(value) if isinstance(value, (list, tuple)) else value


def get(key: str) -> Any:
    """The value in force: saved on the settings screen, else the environment's."""
    row = SiteSetting.objects.filter(key=SPECS[key].key).values_list("value", flat=True)
    for value in row:
        return value
    return default(key)


@dataclass(frozen=True)
class Current:
    """What the settings screen shows of one setting."""

    spec: Spec
    value: Any
    saved: SiteSetting | None  # None: the environment's value

    @property
    def from_environment(self) -> bool:
        return self.saved is None

    @property
    def is_set(self) -> bool:
        return bool(self.value)

    @property
    def changed_at(self) -> datetime | None:
        return self.saved.updated_at if self.saved else None

    @property
    def changed_by(self) -> User | None:
        return self.saved.updated_by if self.saved else None


def current(section: str) -> dict[str, Current]:
    """The settings of one section of the screen, by key, in one query."""
    keys = [spec.key for spec in SPECS.values() if spec.section == section]
    saved = {
        row.key: row
        for row in SiteSetting.objects.filter(key__in=keys).select_related("updated_by")
    }
    return {
        key: Current(SPECS[key], saved[key].value if key in saved else default(key), saved.get(key))
        for key in keys
    }


def _describe(spec: Spec, value: Any) -> str:
    if value is RESET:
        return f"{spec.key} reset to the environment default"
    if spec.secret:
        return f"{spec.key} {'replaced' if value else 'cleared'}"
    shown = ", ".join(value) if isinstance(value, list) else value
    return f"{spec.key} set to {shown!r}" if shown else f"{spec.key} set to empty"


def change(changes: dict[str, Any], *, by: User, request: HttpRequest | None = None) -> list[str]:
    """Save each value (or ``RESET``) in ``changes`` and audit it; the audit lines written.

    All or nothing: the values and their audit entries commit together.
    """
    lines = []
    with transaction.atomic():
        for key, value in changes.items():
            spec = SPECS[key]
            if value is RESET:
                SiteSetting.objects.filter(key=key).delete()
            else:
                SiteSetting.objects.update_or_create(
                    key=key,
                    defaults={"value": value, "updated_by": by, "updated_at": timezone.now()},
                )
            line = _describe(spec, value)
            security.record(AuditKind.SETTING_CHANGED, request=request, user=by, detail=line)
            lines.append(line)
    return lines
