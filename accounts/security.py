"""Audit trail of authentication and authorisation events, and session revocation."""

from __future__ import annotations

import ipaddress
import logging
import re

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest

from accounts.models import AuditEvent, AuditKind, User

logger = logging.getLogger("salesprep.audit")

# The session key that says how a session signed in: "password", "password+mfa" (the code step
# of two-step sign-in, accounts/mfa.py) or "sso" (single sign-on, accounts/sso.py).
SIGNIN_METHOD = "signin_method"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: str, limit: int = 500) -> str:
    """One safe line: control characters (CR, LF, ESC, …) become visible escapes."""
    text = str(text or "")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:limit]


def _trusted_networks() -> tuple:
    raw = tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ())
    if _networks_cache.get("raw") != raw:
        _networks_cache.update(raw=raw, networks=tuple(ipaddress.ip_network(n) for n in raw))
    return _networks_cache["networks"]


_networks_cache: dict = {}


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, for the audit trail and the sign-in throttle.

    The socket's address (``REMOTE_ADDR``), unless it is one of the ``TRUSTED_PROXIES``: then
    ``X-Forwarded-For`` is read from the right, each trusted proxy's hop skipped, and the first
    address no trusted proxy owns is the client. Without trusted proxies no header is believed,
    so a client cannot choose its own address.
    """
    if request is None:
        return None
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    networks = _trusted_networks()

    def trusted(address) -> bool:
        return any(address in network for network in networks)

    client = remote
    if trusted(remote):
        hops = (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                break  # a hop we cannot read: believe nothing beyond it
            client = address
            if not trusted(address):
                break
    return str(client)


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
