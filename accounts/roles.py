"""The roles of SalesPrep. Each is a Django group holding named permissions.

A user may hold several: the demo's head of sales (``vp``) is an Executive, who reviews the
briefs of the calls she joins, and a Sales leader, whose ``view_all_teams`` permission shows
her every team's dashboard."""

from django.db import models


class Role(models.TextChoices):
    REP = "Rep", "Rep"
    EXECUTIVE = "Executive", "Executive"
    MANAGER = "Manager", "Manager"
    ADMIN = "Admin", "Admin"
    SALES_LEADER = "Sales leader", "Sales leader"


# Permission codenames (on accounts.User) granted to each role by the data migration.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.REP: ["prepare_briefs"],
    Role.EXECUTIVE: ["review_briefs"],
    Role.MANAGER: ["view_team_dashboard"],
    Role.ADMIN: [
        "prepare_briefs",
        "review_briefs",
        "view_team_dashboard",
        "view_all_teams",
        "administer_salesprep",
    ],
    # The head of sales: every team's calls, briefs and dashboard, read-only.
    Role.SALES_LEADER: ["view_team_dashboard", "view_all_teams"],
}


def ensure_roles() -> None:
    """Create the role groups with their permissions if they are missing (idempotent).

    The data migration creates them; this restores them after a database flush (transactional
    tests) or an admin deleting a group by mistake.
    """
    from django.contrib.auth.models import Group, Permission

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        perms = Permission.objects.filter(
            content_type__app_label="accounts", codename__in=codenames
        )
        group.permissions.add(*perms)
