"""Every brief view follows the call's access: writers write, readers read (403 on writes),
outsiders get 404, anonymous visitors are sent to sign in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from callprep.briefs import services

from .fixtures import section_of

READ, WRITE = "read", "write"

# (url name, method, needs) — one row per view and method.
VIEWS = [
    ("for_call", "get", READ),
    ("start", "get", WRITE),
    ("start", "post", WRITE),
    ("detail", "get", READ),
    ("edit", "get", WRITE),
    ("section", "get", WRITE),
    ("section", "post", WRITE),
    ("preview", "post", WRITE),
    ("history", "get", READ),
    ("revision", "get", READ),
    ("restore", "post", WRITE),
]

# Who may do what with alice's brief for a call on Acme (team East) that victor joins.
EXPECTED = {
    "alice": {READ: "ok", WRITE: "ok"},  # the call's rep
    "ada": {READ: "ok", WRITE: "ok"},  # admin
    "bob": {READ: "ok", WRITE: 403},  # teammate
    "mallory": {READ: "ok", WRITE: 403},  # manages East
    "victor": {READ: "ok", WRITE: 403},  # the executive joining the call
    "charlie": {READ: 404, WRITE: 404},  # another team's rep
    "walter": {READ: 404, WRITE: 404},  # another team's manager
    "nobody": {READ: 404, WRITE: 404},  # no role at all
}


@pytest.fixture
def revision(brief, alice):
    section = section_of(brief, "business_challenges")
    services.save_section(section, text="One", base_version=1, by=alice)
    return services.save_section(section, text="Two", base_version=2, by=alice, kind="merge")


def url_for(name, brief, revision) -> str:
    if name in {"for_call", "start"}:
        return reverse(f"briefs:{name}", args=[brief.call_id])
    if name in {"detail", "edit"}:
        return reverse(f"briefs:{name}", args=[brief.pk])
    if name in {"revision", "restore"}:
        return reverse(f"briefs:{name}", args=[brief.pk, "business_challenges", revision.pk])
    return reverse(f"briefs:{name}", args=[brief.pk, "business_challenges"])


@pytest.mark.parametrize(("name", "method", "needs"), VIEWS)
@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_every_view_follows_the_calls_access(
    request, client, brief, revision, name, method, needs, username
):
    user = request.getfixturevalue(username)
    client.force_login(user)
    data = {"text": "Changed", "base_version": "3"} if method == "post" else None

    response = getattr(client, method)(url_for(name, brief, revision), data)

    expected = EXPECTED[username][needs]
    if expected == "ok":
        assert response.status_code in {200, 302}, response.content[:300]
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(("name", "method", "needs"), VIEWS)
def test_anonymous_visitors_are_sent_to_sign_in(client, brief, revision, name, method, needs):
    response = getattr(client, method)(url_for(name, brief, revision))

    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")


def test_readers_cannot_change_the_text(client, bob, brief, revision):
    client.force_login(bob)

    client.post(url_for("section", brief, revision), {"text": "bob was here", "base_version": "3"})

    assert section_of(brief, "business_challenges").text == "Two"


def test_an_unknown_section_is_not_found(client, alice, brief):
    client.force_login(alice)

    response = client.get(reverse("briefs:section", args=[brief.pk, "secrets"]))

    assert response.status_code == 404


def test_a_revision_of_another_section_is_not_found(client, alice, brief, revision):
    client.force_login(alice)
    url = reverse("briefs:revision", args=[brief.pk, "industry_dynamics", revision.pk])

    assert client.get(url).status_code == 404


def test_a_reader_without_a_brief_sees_that_none_was_started(client, bob, call):
    client.force_login(bob)

    response = client.get(reverse("briefs:for_call", args=[call.pk]))

    assert response.status_code == 200
    assert b"has not started the brief" in response.content
