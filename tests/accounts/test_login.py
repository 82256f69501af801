import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse

from accounts.models import LoginThrottle

LOGIN = "/auth/login/"
NEW = "x-Strong-pass-9"


def post_login(client, username, password, ip="203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_login_page_renders_for_anonymous_users(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b"<label" in response.content


def test_a_rep_signs_in_and_is_sent_to_my_calls(client, alice):
    response = client.post(
        LOGIN, {"username": "alice", "password": "pw-alice"}, REMOTE_ADDR="203.0.113.7", follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("callprep:my_calls")
    assert b"<h1>My calls</h1>" in response.content


def test_each_role_is_sent_to_its_own_start_page(client, mallory, victor, ada):
    for user, target in [
        (mallory, reverse("callprep:dashboard")),
        (victor, reverse("callprep:my_visits")),  # beside her review queue
        (ada, reverse("admin:index")),
    ]:
        client.force_login(user)
        assert client.get("/")["Location"] == target
        client.logout()


def test_a_user_without_a_role_is_told_to_ask_for_one(client, nobody):
    client.force_login(nobody)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("profile")
    assert b"has no role yet" in response.content


def test_logout_ends_the_session_on_the_server(client, alice):
    post_login(client, "alice", "pw-alice")
    session_key = client.session.session_key
    assert Session.objects.filter(session_key=session_key).exists()

    response = client.post("/auth/logout/")

    assert response.status_code == 302
    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get(reverse("callprep:my_calls")).status_code == 302


def test_logout_by_get_is_refused(client, alice):
    client.force_login(alice)
    assert client.get("/auth/logout/").status_code == 405


def test_sessions_last_at_most_twelve_hours(client, alice):
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    post_login(client, "alice", "pw-alice")
    assert client.session.get_expiry_age() <= 12 * 3600


def test_five_failures_lock_the_username_from_that_address(client, alice):
    for _ in range(5):
        assert post_login(client, "alice", "wrong").status_code == 200

    locked = post_login(client, "alice", "pw-alice")

    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_address(client, alice):
    for _ in range(5):
        post_login(client, "alice", "wrong", ip="203.0.113.7")
    response = post_login(client, "alice", "pw-alice", ip="198.51.100.20")
    assert response.status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, alice):
    for _ in range(5):
        post_login(client, "alice", "wrong")
    throttle = LoginThrottle.objects.get(username="alice")
    throttle.locked_until = throttle.last_failure_at  # the cool-off has passed
    throttle.save()

    assert post_login(client, "alice", "pw-alice").status_code == 302
    assert not LoginThrottle.objects.filter(username="alice").exists()


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client, alice):
    wrong_password = post_login(client, "alice", "wrong")
    unknown_user = post_login(client, "alicia", "wrong")
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert wrong_password.context["form"].errors == unknown_user.context["form"].errors

    for _ in range(4):
        post_login(client, "alicia", "wrong")
    assert post_login(client, "alicia", "wrong").status_code == 429


def test_a_success_clears_earlier_failures(client, alice):
    for _ in range(4):
        post_login(client, "alice", "wrong")
    assert post_login(client, "alice", "pw-alice").status_code == 302
    client.logout()
    for _ in range(4):
        assert post_login(client, "alice", "wrong").status_code == 200


def test_an_inactive_user_cannot_sign_in(client, alice):
    alice.is_active = False
    alice.save()
    assert post_login(client, "alice", "pw-alice").status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "url", ["/auth/password/reset/", "/auth/password/reset/sent/", "/auth/password/reset/complete/"]
)
def test_password_reset_pages_render_for_anonymous_users(client, db, url):
    assert client.get(url).status_code == 200


def test_password_reset_sends_a_link_that_sets_a_new_password(
    client, alice, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/auth/password/reset/", {"email": "alice@example.com"})
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    link = next(line for line in body.splitlines() if "/auth/password/reset/" in line)
    assert link.startswith(settings.SITE_URL + "/auth/password/reset/")  # not the request's host
    path = link.removeprefix(settings.SITE_URL)

    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "a-Long-new-secret-42", "new_password2": "a-Long-new-secret-42"}
    )
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a-Long-new-secret-42")


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(
    client, db, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/auth/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_password_change_needs_the_old_password(client, alice):
    client.force_login(alice)
    assert client.get("/auth/password/change/").status_code == 200
    bad = client.post(
        "/auth/password/change/",
        {
            "old_password": "nope",
            "new_password1": "x-Strong-pass-9",
            "new_password2": "x-Strong-pass-9",
        },
    )
    assert bad.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password("pw-alice")
    good = client.post(
        "/auth/password/change/",
        {
            "old_password": "pw-alice",
            "new_password1": "x-Strong-pass-9",
            "new_password2": "x-Strong-pass-9",
        },
    )
    assert good.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("x-Strong-pass-9")
