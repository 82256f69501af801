"""Two-step sign-in: a time-based code from an authenticator app (TOTP, django-otp's device)
and one-time recovery codes (``RecoveryCode``, kept as hashes).

The rules, each in one place:

* ``is_enrolled(user)``: the user has a confirmed authenticator, so a password sign-in asks
  for a code before it signs in;
* ``is_required(user)``: one of the user's roles is in ``MFA_REQUIRED_ROLES`` (Admin by
  default when ``DEBUG`` is off; an admin may change it on the settings screen), so the user
  must enrol before using SalesPrep;
* ``verify(user, code)``: a current code of the authenticator (each accepted once), or an
  unused recovery code (used up by the check).

Sign-ins by single sign-on are left to the identity provider's own MFA policy.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from base64 import b32encode
from datetime import timedelta

import segno
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import sitesettings
from accounts.models import RecoveryCode, User

RECOVERY_CODES = 10


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_required(user: User) -> bool:
    required = set(sitesettings.get("MFA_REQUIRED_ROLES"))
    return bool(required & set(user.role_names)) or (
        "Admin" in required and bool(user.is_superuser)
    )


# --- Enrolment ----------------------------------------------------------------------------


def has_pending_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=False).exists()


def pending_device(user: User) -> TOTPDevice:
    """The authenticator being set up (made on first call; a new secret after 30 minutes)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device and device.created_at and timezone.now() - device.created_at > _SETUP_LIFETIME:
        device.delete()
        device = None
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


_SETUP_LIFETIME = timedelta(minutes=30)


def setup_uri(device: TOTPDevice) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    # django-otp's config_url names the issuer from OTP_TOTP_ISSUER.
    return device.config_url


def setup_qr_svg(device: TOTPDevice) -> str:
    """The QR code of ``setup_uri`` as inline SVG markup (no script, no style attribute)."""
    return segno.make(setup_uri(device), error="m").svg_inline(
        scale=5, dark="#111827", light="#ffffff", title="QR code for your authenticator app"
    )


def secret_text(device: TOTPDevice) -> str:
    """The secret for typing into an app by hand, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm(user: User, code: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from it; the new recovery codes, or None
    when the code is wrong."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
        if device is None or not device.verify_token(_digits(code)):
            return None
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        return new_recovery_codes(user)


def disable(user: User) -> None:
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()


# --- Recovery codes -----------------------------------------------------------------------


def _hash(code: str) -> str:
    normalised = "".join(ch for ch in code.lower() if ch.isalnum())
    return hmac.new(settings.SECRET_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; the codes, to be shown once."""
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            [RecoveryCode(user=user, code_hash=_hash(code)) for code in codes]
        )
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# --- Verification -------------------------------------------------------------------------


_APP_CODE = re.compile(r"\d{6,8}")


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())[:8]


def verify(user: User, code: str) -> str | None:
    """ "app" or "recovery" when ``code`` proves the second factor, else None.

    An authenticator code is accepted once (django-otp keeps the last accepted time step) and
    the device slows down repeated failures; a recovery code is used up by the one
    conditional update that accepts it, so two requests cannot both use it.
    """
    code = "".join((code or "").split())[:32]
    if not code:
        return None
    if _APP_CODE.fullmatch(code):
        with transaction.atomic():
            device = (
                TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
            return "app" if device is not None and device.verify_token(code) else None
    used = RecoveryCode.objects.filter(
        user=user, code_hash=_hash(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    return "recovery" if used else None
