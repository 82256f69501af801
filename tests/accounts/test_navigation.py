import pytest
from django.urls import reverse


def nav_labels(response) -> list[str]:
    return [item.label for item in response.context["nav_items"]]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("alice", ["My calls"]),
        # A manager reviews the briefs of their teams' calls that no executive joins.
        ("mallory", ["Review queue", "Dashboard"]),
        ("victor", ["My visits", "Review queue", "Dashboard"]),
        ("ada", ["My calls", "Review queue", "Dashboard", "Admin"]),
        ("nobody", []),
    ],
)
def test_navigation_follows_the_role(client, request, fixture, expected):
    client.force_login(request.getfixturevalue(fixture))
    response = client.get(reverse("profile"))
    labels = nav_labels(response)
    # Later issues add entries (Accounts, notifications); the role's own entries must be there
    # and no other role's.
    for label in expected:
        assert label in labels
    for label in {"My calls", "My visits", "Review queue", "Dashboard", "Admin"} - set(expected):
        assert label not in labels


@pytest.mark.parametrize(
    ("fixture", "url_name", "status"),
    [
        ("alice", "callprep:review_queue", 403),
        ("alice", "callprep:dashboard", 403),
        ("mallory", "callprep:my_calls", 403),
        ("victor", "callprep:my_calls", 302),  # to My visits, her page
        ("alice", "callprep:my_visits", 403),
        ("mallory", "callprep:my_visits", 403),
        ("victor", "callprep:my_visits", 200),
        ("nobody", "callprep:dashboard", 403),
        ("mallory", "callprep:dashboard", 200),
        ("victor", "callprep:review_queue", 200),
    ],
)
def test_role_pages_refuse_other_roles(client, request, fixture, url_name, status):
    client.force_login(request.getfixturevalue(fixture))
    assert client.get(reverse(url_name)).status_code == status


def test_admin_site_is_reachable_for_the_admin_only(client, ada, alice):
    client.force_login(alice)
    assert client.get("/admin/").status_code == 302
    client.force_login(ada)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_the_profile_names_the_teams_a_manager_manages(client, mallory, alice):
    client.force_login(mallory)
    page = client.get(reverse("profile")).content.decode()
    assert '<dd data-testid="managed-teams">East</dd>' in page

    client.force_login(alice)  # a member, not a manager: no "Manages" line
    assert 'data-testid="managed-teams"' not in client.get(reverse("profile")).content.decode()
