"""Audit trail of authentication and authorisation events, and session revocation."""

from __future__ import annotations

import logging
import re

from django.db.models import F
from django.http import HttpRequest

from accounts.models import AuditEvent, AuditKind, User

logger = logging.getLogger("salesprep.audit")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: str, limit: int = 500) -> str:
    """One safe line: control characters (CR, LF, ESC, …) become visible escapes."""
    text = str(text or "")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:limit]


def client_ip(request: HttpRequest | None) -> str | None:
    # Only REMOTE_ADDR, which gunicorn sets from the socket: a client cannot choose its own
    # address with a forwarded-for header, neither for the audit trail nor the login throttle.
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    kind: AuditKind,
    *,
    request: HttpRequest | None = None,
    user: User | None = None,
    username: str = "",
    status: int | None = None,
    detail: str = "",
) -> AuditEvent:
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    event = AuditEvent.objects.create(
        kind=kind,
        user=user,
        username=clean(username or (user.get_username() if user else ""), 150),
        ip_address=client_ip(request),
        method=clean(request.method, 10) if request is not None else "",
        path=clean(request.get_full_path(), 500) if request is not None else "",
        status=status,
        detail=clean(detail),
    )
    logger.info(
        "%s user=%s ip=%s %s %s status=%s %s",
        kind,
        event.username or "-",
        event.ip_address or "-",
        event.method,
        event.path,
        status or "-",
        event.detail,
    )
    return event


def revoke_sessions(user: User, *, reason: str, request: HttpRequest | None = None) -> None:
    """End every session of ``user``: the next request of each is anonymous."""
    User.objects.filter(pk=user.pk).update(session_stamp=F("session_stamp") + 1)
    record(AuditKind.SESSIONS_REVOKED, request=request, user=user, detail=reason)
