"""The demo data set: fictional people and customers for a first look at SalesPrep.

Every function here is idempotent: running the seed twice leaves the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import Team, User
from accounts.roles import Role, ensure_roles

DEMO_PASSWORD = "salesprep-demo"  # noqa: S105 - printed on purpose; refused when DEBUG is off


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    roles: tuple[Role, ...]
    team: str | None = None
    manages: str | None = None


DEMO_USERS = [
    DemoUser("rep", "Riley", "Park", (Role.REP,), team="East"),
    DemoUser("manager", "Morgan", "Hale", (Role.MANAGER,), manages="East"),
    DemoUser("rep2", "Sam", "Okafor", (Role.REP,), team="West"),
    DemoUser("vp", "Victoria", "Pérez", (Role.EXECUTIVE,)),
    DemoUser("admin", "Alex", "Admin", (Role.ADMIN,)),
]


def seed_users() -> dict[str, User]:
    ensure_roles()
    users: dict[str, User] = {}
    teams = {name: Team.objects.get_or_create(name=name)[0] for name in ("East", "West")}
    for spec in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=spec.username)
        user.first_name = spec.first_name
        user.last_name = spec.last_name
        user.email = f"{spec.username}@salesprep.example"
        user.is_active = True
        user.is_staff = Role.ADMIN in spec.roles
        user.is_superuser = Role.ADMIN in spec.roles
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set(Group.objects.filter(name__in=[str(r) for r in spec.roles]))
        if spec.team:
            teams[spec.team].members.add(user)
        if spec.manages:
            teams[spec.manages].managers.add(user)
        users[spec.username] = user
    return users


@transaction.atomic
def seed() -> dict[str, User]:
    """Create or refresh every part of the demo data set."""
    users = seed_users()
    return users
