"""The sign-in throttle: one set of rules for every door that checks a password.

Our sign-in form, the Django admin's login and every later door (single sign-on callbacks, API
tokens) ask ``check`` before they try the credentials, then report ``failed`` or ``succeeded``.
Failures are counted per username *and* client address (``LoginThrottle`` rows), and three rules
read those counts:

* **a username from one address**: ``LOGIN_FAILURE_LIMIT`` failures lock that pair for
  ``LOGIN_LOCKOUT``. The same user from another address is not affected, so an attacker cannot
  lock someone out by typing their name;
* **one address**: ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from it, whatever the usernames,
  lock the address for ``LOGIN_LOCKOUT`` (one machine trying many names);
* **a username from anywhere**: from ``LOGIN_USER_FAILURE_LIMIT`` failures in all, each further
  attempt waits twice as long after the last failure as the one before, at most
  ``LOGIN_USER_MAX_DELAY`` (many machines trying one name). It slows guessing without ever
  locking the user out, and a browser that has signed in as that user before (a signed
  "known browser" cookie) is not delayed at all.

Refused attempts are not counted, so waiting always ends. A success for the pair clears it, and
a completed password reset lifts every lock on the username (``lift``). The client address comes
from ``security.client_ip``, which believes ``X-Forwarded-For`` only from ``TRUSTED_PROXIES``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F, Max, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts import security
from accounts.models import LoginThrottle

KNOWN_COOKIE = "salesprep_known"
_KNOWN_SALT = "salesprep.throttle.known-browser"
_KNOWN_AGE = 180 * 24 * 3600
_KNOWN_MAX = 5  # usernames remembered per browser


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:150]


def client_address(request: HttpRequest | None) -> str:
    # The throttle needs an address; the audit trail's helper may find none.
    return security.client_ip(request) or "0.0.0.0"  # noqa: S104


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused, and for how long."""

    rule: str  # "user_address", "address" or "user"
    seconds: int

    def wait_text(self) -> str:
        if self.seconds < 90:
            return f"{self.seconds} second{'s' if self.seconds != 1 else ''}"
        minutes = math.ceil(self.seconds / 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"

    def message(self, *, password: bool = True) -> str:
        """What the sign-in page says; ``password=False`` for single sign-on, where there is
        no username typed and no password to reset."""
        if not password:
            return (
                "Too many failed sign-in attempts. "
                f"Try again in {self.wait_text()}, or ask an administrator."
            )
        if self.rule == "address":
            return (
                "Too many failed sign-in attempts from your network address. "
                f"Try again in {self.wait_text()}."
            )
        if self.rule == "user":
            return (
                "Too many failed sign-in attempts for this username. "
                f"Try again in {self.wait_text()}."
            )
        return (
            "Too many failed sign-in attempts for this username from your address. "
            f"Try again in {self.wait_text()}, or reset your password to sign in now."
        )


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def user_delay(failures: int) -> timedelta:
    """How long a username waits after its last failure, given its failures from anywhere."""
    over = failures - settings.LOGIN_USER_FAILURE_LIMIT
    if over < 0:
        return timedelta(0)
    cap = settings.LOGIN_USER_MAX_DELAY
    return min(timedelta(seconds=2 ** min(over, 30)), cap)


def _recent(now):
    return LoginThrottle.objects.filter(last_failure_at__gte=now - settings.LOGIN_LOCKOUT)


def check(request: HttpRequest, username: str, now=None) -> Refusal | None:
    """Whether an attempt for ``username`` from this request's client may go ahead."""
    now = now or timezone.now()
    name, address = normalise_username(username), client_address(request)

    pair = LoginThrottle.objects.filter(username=name, ip_address=address).first()
    if pair and pair.is_locked(now):
        return Refusal("user_address", _seconds(pair.locked_until - now))

    from_address = (
        _recent(now)
        .filter(ip_address=address)
        .aggregate(failures=Sum("failures"), last=Max("last_failure_at"))
    )
    if (from_address["failures"] or 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        return Refusal("address", _seconds(from_address["last"] + settings.LOGIN_LOCKOUT - now))

    if not is_known_browser(request, name):
        for_user = (
            _recent(now)
            .filter(username=name)
            .aggregate(failures=Sum("failures"), last=Max("last_failure_at"))
        )
        until = (for_user["last"] or now) + user_delay(for_user["failures"] or 0)
        if until > now:
            return Refusal("user", _seconds(until - now))
    return None


def failed(request: HttpRequest, username: str) -> LoginThrottle:
    now = timezone.now()
    key = {"username": normalise_username(username), "ip_address": client_address(request)}
    with transaction.atomic():
        throttle, _ = LoginThrottle.objects.select_for_update().get_or_create(**key)
        if throttle.locked_until and throttle.locked_until <= now:
            # The cool-off is over: start counting again.
            throttle.failures = 0
            throttle.locked_until = None
        if now - throttle.last_failure_at > settings.LOGIN_LOCKOUT:
            throttle.failures = 0
        throttle.failures = F("failures") + 1
        throttle.last_failure_at = now
        throttle.save()
        throttle.refresh_from_db()
        if throttle.failures >= settings.LOGIN_FAILURE_LIMIT:
            throttle.locked_until = now + settings.LOGIN_LOCKOUT
            throttle.save(update_fields=["locked_until"])
    return throttle


def succeeded(request: HttpRequest, username: str) -> None:
    LoginThrottle.objects.filter(
        username=normalise_username(username), ip_address=client_address(request)
    ).delete()


def lift(username: str) -> int:
    """Lift every lock and delay on ``username`` (its password was just reset)."""
    deleted, _ = LoginThrottle.objects.filter(username=normalise_username(username)).delete()
    return deleted


def prune(older_than=None) -> int:
    cutoff = timezone.now() - (older_than or settings.LOGIN_LOCKOUT * 4)
    deleted, _ = LoginThrottle.objects.filter(last_failure_at__lt=cutoff).delete()
    return deleted


# --- The known-browser cookie ---------------------------------------------------------------


def _browser_token(name: str) -> str:
    return salted_hmac(_KNOWN_SALT, name, algorithm="sha256").hexdigest()[:32]


def _known_tokens(request: HttpRequest) -> list[str]:
    try:
        raw = request.get_signed_cookie(
            KNOWN_COOKIE, default="", salt=_KNOWN_SALT, max_age=_KNOWN_AGE
        )
    except signing.BadSignature:
        return []
    return [token for token in raw.split(",") if token][:_KNOWN_MAX]


def is_known_browser(request: HttpRequest, username: str) -> bool:
    return _browser_token(normalise_username(username)) in _known_tokens(request)


def remember_browser(request: HttpRequest, response: HttpResponse, username: str) -> None:
    """After a successful sign-in: this browser is not slowed down for this username."""
    token = _browser_token(normalise_username(username))
    tokens = [token, *(t for t in _known_tokens(request) if t != token)][:_KNOWN_MAX]
    response.set_signed_cookie(
        KNOWN_COOKIE,
        ",".join(tokens),
        salt=_KNOWN_SALT,
        max_age=_KNOWN_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
