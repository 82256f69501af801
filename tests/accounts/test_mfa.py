"""Two-step sign-in (accounts/mfa.py): enrolment with an authenticator app, sign-in with its
code, recovery codes that work once, and the roles that must use it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest

from accounts.models import AuditEvent, AuditKind, LoginThrottle, RecoveryCode
from tests.helpers import manage, project_env

LOGIN = "/auth/login/"
SETUP = "/auth/two-step/setup/"
VERIFY = "/auth/two-step/"


def app_code(secret: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for ``secret`` (RFC 6238: SHA-1, 30 s, 6 digits)."""
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    counter = int(time.time()) // 30 + steps_ahead
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def enrol(client, user) -> tuple[str, list[str]]:
    """Set up the app through the pages, as a user does; the secret and the recovery codes."""
    client.force_login(user)
    page = client.get(SETUP).content.decode()
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1)
    done = client.post(SETUP, {"code": app_code(secret)})
    assert done.status_code == 200, done.content
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.content.decode())
    client.post("/auth/logout/")
    return secret, codes


def password_step(client, username, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": f"pw-{username}"}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_setup_page_shows_a_qr_code_and_the_key(client, alice):
    client.force_login(alice)
    page = client.get(SETUP)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "QR code for your authenticator app" in html
    assert "style=" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]  # CSP-safe markup
    assert re.search(r'data-testid="totp-secret">[A-Z2-7]{4}( [A-Z2-7]{1,4})+<', html)


def test_a_wrong_code_does_not_turn_it_on(client, alice):
    client.force_login(alice)
    client.get(SETUP)
    response = client.post(SETUP, {"code": "000000"})
    assert response.status_code == 400
    assert b"That code is not right" in response.content
    assert not RecoveryCode.objects.exists()
    assert b"Off: your password alone" in client.get("/auth/profile/").content


def test_enrolment_turns_it_on_and_shows_ten_recovery_codes_once(client, alice):
    _, codes = enrol(client, alice)
    assert len(codes) == 10 and len(set(codes)) == 10
    # Only hashes are kept.
    stored = set(RecoveryCode.objects.filter(user=alice).values_list("code_hash", flat=True))
    assert not stored & set(codes)
    assert AuditEvent.objects.filter(kind=AuditKind.MFA_ENABLED, user=alice).exists()
    client.force_login(alice)
    profile = client.get("/auth/profile/").content.decode()
    assert "On: after your password" in profile and "Recovery codes left: 10" in profile
    assert not any(code in profile for code in codes)


def test_the_password_alone_no_longer_signs_in(client, alice):
    enrol(client, alice)
    response = password_step(client, "alice")
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert not signed_in(client)
    assert client.get("/calls/mine/").status_code == 302


def test_sign_in_with_the_password_and_a_code_from_the_app(client, alice):
    secret, _ = enrol(client, alice)
    password_step(client, "alice")

    response = client.post(VERIFY, {"code": app_code(secret, steps_ahead=1)})

    assert response.status_code == 302
    assert signed_in(client)
    assert client.get("/calls/mine/").status_code == 200


def test_the_same_app_code_is_accepted_only_once(client, alice):
    secret, _ = enrol(client, alice)
    code = app_code(secret, steps_ahead=1)
    password_step(client, "alice")
    client.post(VERIFY, {"code": code})
    client.post("/auth/logout/")

    password_step(client, "alice")
    again = client.post(VERIFY, {"code": code})

    assert again.status_code == 200
    assert b"That code is not right" in again.content
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once(client, alice):
    _, codes = enrol(client, alice)
    password_step(client, "alice")
    first = client.post(VERIFY, {"code": codes[3].upper()}, follow=True)
    assert signed_in(client)
    assert b"You signed in with a recovery code; 9 left" in first.content
    client.post("/auth/logout/")

    password_step(client, "alice")
    second = client.post(VERIFY, {"code": codes[3]})

    assert second.status_code == 200
    assert not signed_in(client)


def test_wrong_codes_count_towards_the_sign_in_throttle(client, alice):
    enrol(client, alice)
    password_step(client, "alice")
    for _ in range(5):
        client.post(VERIFY, {"code": "123456"}, REMOTE_ADDR="203.0.113.7")
    refused = client.post(VERIFY, {"code": "123456"}, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    assert b"Too many failed sign-in attempts" in refused.content
    assert LoginThrottle.objects.get(username="alice").failures == 5


def test_the_code_step_expires(client, alice, settings):
    secret, _ = enrol(client, alice)
    settings.MFA_PENDING_SECONDS = 0
    password_step(client, "alice")
    response = client.post(VERIFY, {"code": app_code(secret, steps_ahead=1)}, follow=True)
    assert not signed_in(client)
    assert b"Your sign-in took too long" in response.content


def test_the_code_step_without_a_password_first_sends_you_to_sign_in(client, db):
    response = client.get(VERIFY)
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/"


def test_new_recovery_codes_replace_the_old_ones(client, alice):
    secret, old = enrol(client, alice)
    client.force_login(alice)
    response = client.post("/auth/two-step/recovery-codes/", {"code": app_code(secret, 1)})
    new = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/auth/logout/")
    password_step(client, "alice")
    assert client.post(VERIFY, {"code": old[0]}).status_code == 200
    assert not signed_in(client)
    assert client.post(VERIFY, {"code": new[0]}).status_code == 302


def test_turning_it_off_needs_a_code(client, alice):
    _, codes = enrol(client, alice)
    client.force_login(alice)
    client.post("/auth/two-step/off/", {"code": "999999"})
    assert RecoveryCode.objects.filter(user=alice).exists()
    client.post("/auth/two-step/off/", {"code": codes[0]})
    assert not RecoveryCode.objects.filter(user=alice).exists()
    client.post("/auth/logout/")
    assert password_step(client, "alice")["Location"] == "/"
    assert signed_in(client)


# --- Roles that must use it ---------------------------------------------------------------


def test_a_required_role_must_set_it_up_before_anything_else(client, ada, settings):
    settings.MFA_REQUIRED_ROLES = ["Admin"]
    client.force_login(ada)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"] == SETUP
    assert client.get(SETUP).status_code == 200
    assert client.post("/auth/logout/").status_code == 302


def test_a_required_role_cannot_turn_it_off(client, ada, settings):
    settings.MFA_REQUIRED_ROLES = ["Admin"]
    secret, codes = enrol(client, ada)
    password_step(client, "ada")
    client.post(VERIFY, {"code": app_code(secret, 1)})
    response = client.post("/auth/two-step/off/", {"code": codes[0]}, follow=True)
    assert b"Your role requires two-step sign-in" in response.content
    assert RecoveryCode.objects.filter(user=ada).count() == 10


def test_an_admin_with_the_app_reaches_the_admin_after_the_code_step(client, ada, settings):
    settings.MFA_REQUIRED_ROLES = ["Admin"]
    secret, _ = enrol(client, ada)
    response = client.get("/admin/login/?next=/admin/")
    assert response["Location"] == "/auth/login/?next=%2Fadmin%2F"
    client.post("/auth/login/", {"username": "ada", "password": "pw-ada", "next": "/admin/"})
    assert client.get("/admin/").status_code == 302  # not yet
    done = client.post(VERIFY, {"code": app_code(secret, 1)})
    assert done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_session_that_skipped_the_code_step_must_sign_in_again(client, ada, settings):
    settings.MFA_REQUIRED_ROLES = ["Admin"]
    enrol(client, ada)
    client.force_login(ada)  # as if signed in before the requirement
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")
    assert not signed_in(client)


def test_a_role_without_the_requirement_is_not_asked(client, alice, settings):
    settings.MFA_REQUIRED_ROLES = ["Admin"]
    client.force_login(alice)
    assert client.get("/calls/mine/").status_code == 200


@pytest.mark.parametrize(("debug", "expected"), [("false", "['Admin']"), ("true", "[]")])
def test_admins_must_use_it_in_production_settings(tmp_path, debug, expected):
    env = project_env(
        DEBUG=debug,
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="example.com",
        SALESPREP_VAR_DIR=str(tmp_path),
    )
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.MFA_REQUIRED_ROLES)",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_confirming_before_the_qr_code_was_shown_creates_nothing(client, alice):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(alice)
    response = client.post(SETUP, {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == SETUP
    assert not TOTPDevice.objects.exists()


def test_a_single_sign_on_session_is_left_to_the_identity_provider(client, ada, settings):
    settings.MFA_REQUIRED_ROLES = ["Admin"]
    client.force_login(ada)
    session = client.session
    session["signin_method"] = "sso"
    session.save()
    assert client.get("/admin/").status_code == 200


def test_a_misspelt_required_role_stops_start_up(tmp_path):
    env = project_env(MFA_REQUIRED_ROLES="Admin,Admins", SALESPREP_VAR_DIR=str(tmp_path))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "MFA_REQUIRED_ROLES names 'Admins', which is not a role." in result.stderr
