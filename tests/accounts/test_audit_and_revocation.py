import pytest
from django.urls import reverse

from accounts.models import AuditEvent, AuditKind, Team
from accounts.security import clean, revoke_sessions

MY_CALLS = "/calls/mine/"


def login(client, username, password, ip="203.0.113.9"):
    return client.post("/auth/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_sign_in_sign_out_and_failures_are_audited_in_utc(client, alice):
    login(client, "alice", "wrong")
    login(client, "alice", "pw-alice")
    client.post("/auth/logout/")

    kinds = list(AuditEvent.objects.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == [AuditKind.LOGIN_FAILED, AuditKind.LOGIN, AuditKind.LOGOUT]
    failed = AuditEvent.objects.get(kind=AuditKind.LOGIN_FAILED)
    assert failed.username == "alice"
    assert failed.ip_address == "203.0.113.9"
    assert failed.at.utcoffset().total_seconds() == 0


def test_a_locked_sign_in_is_audited(client, alice):
    for _ in range(5):
        login(client, "alice", "wrong")
    login(client, "alice", "pw-alice")
    assert AuditEvent.objects.filter(kind=AuditKind.LOGIN_LOCKED, username="alice").count() == 1


def test_a_crafted_username_cannot_forge_log_lines(client, db):
    login(client, "mallory\r\n2026-01-01 INFO login user=admin", "x")
    event = AuditEvent.objects.get(kind=AuditKind.LOGIN_FAILED)
    assert "\n" not in event.username and "\r" not in event.username
    assert event.username.startswith("mallory\\x0d\\x0a")


def test_clean_escapes_every_control_character():
    assert clean("a\x1b[31mb\u2028c\x00") == "a\\x1b[31mb\\x2028c\\x00"


def test_a_refused_access_is_audited(client, alice):
    client.force_login(alice)
    assert client.get(reverse("callprep:dashboard")).status_code == 403
    assert client.get("/accounts/999999/").status_code == 404
    refused = AuditEvent.objects.filter(kind=AuditKind.ACCESS_REFUSED).order_by("at", "pk")
    assert [(e.status, e.path, e.user) for e in refused] == [
        (403, "/dashboard/", alice),
        (404, "/accounts/999999/", alice),
    ]


def test_revoking_sessions_signs_the_user_out_everywhere(client, alice):
    other = client.__class__()
    client.force_login(alice)
    other.force_login(alice)
    assert client.get(MY_CALLS).status_code == 200

    revoke_sessions(alice, reason="test")

    assert client.get(MY_CALLS).status_code == 302
    assert other.get(MY_CALLS).status_code == 302
    # Signing in again works.
    assert login(client, "alice", "pw-alice").status_code == 302
    assert client.get(MY_CALLS).status_code == 200


def test_moving_a_rep_off_a_team_ends_their_sessions_on_the_next_request(client, alice):
    client.force_login(alice)
    assert client.get(MY_CALLS).status_code == 200

    Team.objects.get(name="East").members.remove(alice)

    assert client.get(MY_CALLS).status_code == 302
    assert AuditEvent.objects.filter(kind=AuditKind.SESSIONS_REVOKED, user=alice).exists()


def test_removing_a_team_from_the_user_side_also_ends_sessions(client, alice):
    client.force_login(alice)
    alice.teams.clear()
    assert client.get(MY_CALLS).status_code == 302


def test_clearing_a_teams_managers_ends_their_sessions(client, mallory):
    client.force_login(mallory)
    assert client.get(reverse("callprep:dashboard")).status_code == 200
    Team.objects.get(name="East").managers.clear()
    assert client.get(reverse("callprep:dashboard")).status_code == 302


def test_adding_a_member_leaves_sessions_alone(client, alice, bob):
    client.force_login(alice)
    Team.objects.get_or_create(name="West")[0].members.add(alice)
    assert client.get(MY_CALLS).status_code == 200


def test_deactivating_a_user_takes_effect_on_the_next_request(client, alice):
    client.force_login(alice)
    alice.is_active = False
    alice.save()
    response = client.get(MY_CALLS)
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")


@pytest.mark.parametrize("new_password", ["a-New-pass-123"])
def test_changing_the_password_keeps_this_session_and_ends_others(client, alice, new_password):
    other = client.__class__()
    other.force_login(alice)
    client.force_login(alice)
    response = client.post(
        "/auth/password/change/",
        {"old_password": "pw-alice", "new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert client.get(MY_CALLS).status_code == 200
    assert other.get(MY_CALLS).status_code == 302
