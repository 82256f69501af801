"""One throttle on every password door (accounts/throttle.py): our sign-in page, the Django
admin's login and the password reset; the client address read only through trusted proxies."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import RequestFactory
from django.utils import timezone

from accounts import security, throttle
from accounts.models import LoginThrottle
from salesprep.env import ImproperlyConfiguredEnv, env_networks

LOGIN = "/auth/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
RESET = "/auth/password/reset/"


def sign_in(client, username, password, ip="203.0.113.7", url=LOGIN, **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- The Django admin's login -------------------------------------------------------------


def test_the_admin_login_page_is_our_sign_in_page(client, db):
    response = client.get(ADMIN_LOGIN)
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/?next=%2Fadmin%2F"


def test_the_stock_admin_login_form_signs_no_one_in(client, ada):
    response = sign_in(client, "ada", "pw-ada", url=ADMIN_LOGIN)
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")
    assert not signed_in(client)


def test_twenty_wrong_admin_passwords_then_the_right_one_does_not_sign_in(client, ada):
    for _ in range(20):
        sign_in(client, "ada", "wrong", url=ADMIN_LOGIN)
        sign_in(client, "ada", "wrong")
    assert sign_in(client, "ada", "pw-ada", url=ADMIN_LOGIN).status_code == 302
    assert sign_in(client, "ada", "pw-ada").status_code == 429
    assert not signed_in(client)


def test_an_admin_signs_in_on_our_page_and_lands_in_the_admin(client, ada):
    client.get(ADMIN_LOGIN)
    response = client.post(
        LOGIN, {"username": "ada", "password": "pw-ada", "next": "/admin/"}, REMOTE_ADDR="1.2.3.4"
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    # Signed in, the admin's login page sends an admin straight on.
    assert client.get(ADMIN_LOGIN)["Location"] == "/admin/"


def test_someone_without_admin_access_is_told_so_instead_of_looping(client, alice):
    client.force_login(alice)
    response = client.get(ADMIN_LOGIN)
    assert response.status_code == 403
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_the_admin_login_does_not_send_anyone_to_another_site(client, ada):
    client.force_login(ada)
    response = client.get("/admin/login/?next=https://evil.example/")
    assert response["Location"] == "/"


# --- The address rule and the username rule ------------------------------------------------


def test_many_usernames_from_one_address_lock_that_address(client, alice, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for n in range(12):
        sign_in(client, f"guess{n}", "wrong", ip="198.51.100.9")

    refused = sign_in(client, "alice", "pw-alice", ip="198.51.100.9")

    assert refused.status_code == 429
    assert b"from your network address" in refused.content
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert not signed_in(client)
    assert sign_in(client, "alice", "pw-alice", ip="198.51.100.10").status_code == 302


def test_many_addresses_guessing_one_username_slow_it_down_without_locking_it(client, alice):
    for n in range(10):
        assert sign_in(client, "alice", "wrong", ip=f"192.0.2.{n + 1}").status_code == 200

    refused = sign_in(client, "alice", "pw-alice", ip="192.0.2.200")

    assert refused.status_code == 429
    assert b"for this username. Try again in" in refused.content
    assert 0 < int(refused["Retry-After"]) <= 60
    assert not signed_in(client)
    # The wait is short and ends: once it has passed, the right password signs in.
    LoginThrottle.objects.filter(username="alice").update(
        last_failure_at=timezone.now() - timedelta(seconds=61)
    )
    assert sign_in(client, "alice", "pw-alice", ip="192.0.2.200").status_code == 302


def test_the_username_wait_doubles_and_never_exceeds_the_cap(settings):
    settings.LOGIN_USER_FAILURE_LIMIT = 10
    settings.LOGIN_USER_MAX_DELAY = timedelta(seconds=60)
    waits = [throttle.user_delay(n).total_seconds() for n in range(9, 20)]
    assert waits == [0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60]
    assert throttle.user_delay(10_000) == timedelta(seconds=60)


def test_refused_attempts_are_not_counted_so_the_wait_ends(client, alice):
    for n in range(10):
        sign_in(client, "alice", "wrong", ip=f"192.0.2.{n + 1}")
    before = list(LoginThrottle.objects.values_list("ip_address", "failures", "last_failure_at"))

    for _ in range(30):
        assert sign_in(client, "alice", "wrong", ip="192.0.2.201").status_code == 429

    after = list(LoginThrottle.objects.values_list("ip_address", "failures", "last_failure_at"))
    assert sorted(after) == sorted(before)


def test_a_browser_that_signed_in_before_is_not_slowed_by_strangers_guessing(client, alice):
    assert sign_in(client, "alice", "pw-alice", ip="192.0.2.250").status_code == 302
    assert throttle.KNOWN_COOKIE in client.cookies
    client.post("/auth/logout/")
    for n in range(10):
        sign_in(client.__class__(), "alice", "wrong", ip=f"192.0.2.{n + 1}")

    assert sign_in(client, "alice", "pw-alice", ip="192.0.2.250").status_code == 302


def test_the_known_browser_cookie_is_for_one_username_and_cannot_be_forged(client, alice, bob):
    sign_in(client, "bob", "pw-bob", ip="192.0.2.250")
    client.post("/auth/logout/")
    for n in range(10):
        sign_in(client.__class__(), "alice", "wrong", ip=f"192.0.2.{n + 1}")
    # bob's browser knows bob, not alice.
    assert sign_in(client, "alice", "pw-alice", ip="192.0.2.250").status_code == 429

    client.cookies[throttle.KNOWN_COOKIE] = "0" * 32
    assert sign_in(client, "alice", "pw-alice", ip="192.0.2.250").status_code == 429


# --- Password reset ----------------------------------------------------------------------


def reset_link(mail) -> str:
    line = next(line for line in mail.body.splitlines() if "/auth/password/reset/" in line)
    return urlsplit(line.strip()).path


def test_a_password_reset_lifts_the_lock_the_message_speaks_of(
    client, alice, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    locked = sign_in(client, "alice", "pw-alice")
    assert b"or reset your password to sign in now" in locked.content

    with django_capture_on_commit_callbacks(execute=True):
        client.post(RESET, {"email": "alice@example.com"})
    form_page = client.get(reset_link(mailoutbox[0]), follow=True)
    new = "a-Long-new-secret-42"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done.status_code == 302

    assert sign_in(client, "alice", new).status_code == 302
    assert signed_in(client)


def mail_server_down(settings):
    # Nothing listens on the discard port: every connection is refused.
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    options = {"host": "127.0.0.1", "port": 9, "timeout": 1}
    settings.MAILERS = {"default": {"BACKEND": smtp, "OPTIONS": options}}


def test_reset_mail_is_sent_by_the_worker_not_the_request(client, alice, settings, mailoutbox):
    # The mail server is down: the request still answers at once, and nothing is sent by it.
    mail_server_down(settings)
    response = client.post(RESET, {"email": "alice@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/auth/password/reset/sent/"


def test_the_worker_task_raises_for_a_retry_when_the_mail_server_is_down(alice, settings):
    from accounts.tasks import send_password_reset

    mail_server_down(settings)
    with pytest.raises(OSError):
        send_password_reset.run("alice@example.com")
    assert OSError in send_password_reset.autoretry_for


def test_one_mailbox_gets_at_most_three_reset_mails_an_hour(
    client, alice, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    for _ in range(6):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(RESET, {"email": "alice@example.com"})
        assert response.status_code == 302  # says "sent" every time
    assert len(mailoutbox) == 3


def test_one_address_may_ask_for_ten_resets_an_hour(client, db):
    for _ in range(10):
        assert client.post(RESET, {"email": "someone@example.com"}).status_code == 302
    refused = client.post(RESET, {"email": "someone@example.com"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert b"Too many password reset requests from your network address" in refused.content
    other = client.post(RESET, {"email": "someone@example.com"}, REMOTE_ADDR="198.51.100.30")
    assert other.status_code == 302


# --- The client address and trusted proxies ----------------------------------------------


def request_from(remote, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_trusted_proxies_a_forwarded_header_changes_nothing(settings):
    settings.TRUSTED_PROXIES = []
    assert security.client_ip(request_from("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_a_spoofed_forwarded_header_cannot_escape_the_lock(client, alice, settings):
    settings.TRUSTED_PROXIES = []
    for n in range(5):
        sign_in(client, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    refused = sign_in(client, "alice", "pw-alice", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert refused.status_code == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "client_address"),
    [
        ("10.0.0.2", "203.0.113.9", "203.0.113.9"),
        # What the client wrote itself sits left of what our proxy appended: ignored.
        ("10.0.0.2", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        # Two trusted hops (a load balancer, then the proxy).
        ("10.0.0.2", "203.0.113.9, 10.0.0.3", "203.0.113.9"),
        # An unreadable hop: believe nothing beyond the last trusted one.
        ("10.0.0.2", "203.0.113.9, not-an-ip", "10.0.0.2"),
        # No header from the proxy: the proxy's own address.
        ("10.0.0.2", None, "10.0.0.2"),
        # Not from a trusted proxy: its header is not believed.
        ("198.51.100.5", "203.0.113.9", "198.51.100.5"),
        ("2001:db8::5", "203.0.113.9", "2001:db8::5"),
        ("fd00::1", "2001:db8::9", "2001:db8::9"),
    ],
)
def test_with_trusted_proxies_the_client_is_the_first_untrusted_hop(
    settings, remote, forwarded, client_address
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "fd00::/8"]
    assert security.client_ip(request_from(remote, forwarded)) == client_address


def test_behind_a_trusted_proxy_one_client_cannot_lock_out_another(client, alice, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    for _ in range(5):
        sign_in(client, "alice", "wrong", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert (
        sign_in(client, "alice", "pw-alice", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.66")
    ).status_code == 429

    ok = sign_in(client, "alice", "pw-alice", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert ok.status_code == 302
    assert LoginThrottle.objects.get().ip_address == "198.51.100.66"


def test_trusted_proxies_are_read_and_checked_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12,fd00::/8")
    assert env_networks("TRUSTED_PROXIES") == ["10.0.0.5/32", "172.16.0.0/12", "fd00::/8"]
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, proxy.internal")
    with pytest.raises(ImproperlyConfiguredEnv, match=r"TRUSTED_PROXIES.*proxy\.internal"):
        env_networks("TRUSTED_PROXIES")


def test_an_empty_sign_in_form_asks_for_both_fields_and_counts_nothing(client, db):
    response = client.post(LOGIN, {"username": "", "password": ""})
    assert response.status_code == 200
    assert b"This field is required." in response.content
    assert not LoginThrottle.objects.exists()
