"""The four roles of SalesPrep. Each is a Django group holding named permissions."""

from django.db import models


class Role(models.TextChoices):
    REP = "Rep", "Rep"
    EXECUTIVE = "Executive", "Executive"
    MANAGER = "Manager", "Manager"
    ADMIN = "Admin", "Admin"


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
}
