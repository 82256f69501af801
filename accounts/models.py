from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from accounts.roles import Role


class User(AbstractUser):
    """A person who uses SalesPrep. Roles are groups; a user may hold several."""

    class Meta:
        permissions = [
            ("prepare_briefs", "Can prepare pre-call briefs"),
            ("review_briefs", "Can review and approve pre-call briefs"),
            ("view_team_dashboard", "Can see the prep dashboard of own teams"),
            ("view_all_teams", "Can see every team's data"),
            ("administer_salesprep", "Can administer users, teams and data sources"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

    @property
    def role_list(self) -> list[str]:
        return sorted(self.role_names)

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.role_names

    @property
    def is_rep(self) -> bool:
        return self.has_role(Role.REP)

    @property
    def is_executive(self) -> bool:
        return self.has_role(Role.EXECUTIVE)

    @property
    def is_manager(self) -> bool:
        return self.has_role(Role.MANAGER)

    @property
    def is_admin_role(self) -> bool:
        return self.is_superuser or self.has_role(Role.ADMIN)


class TeamQuerySet(models.QuerySet):
    def managed_by(self, user: User) -> TeamQuerySet:
        return self.filter(managers=user)

    def with_member(self, user: User) -> TeamQuerySet:
        return self.filter(members=user)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="managed_teams", blank=True
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LoginThrottle(models.Model):
    """Failed logins for one username from one address; a lock when they add up.

    Keyed by the username as typed, so an unknown username is throttled exactly like a known
    one and the response gives nothing away.
    """

    username = models.CharField(max_length=150)
    ip_address = models.GenericIPAddressField()
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["username", "ip_address"], name="one_throttle_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.username}@{self.ip_address}: {self.failures}"

    def is_locked(self, now=None) -> bool:
        now = now or timezone.now()
        return self.locked_until is not None and self.locked_until > now

    def minutes_left(self, now=None) -> int:
        now = now or timezone.now()
        if not self.is_locked(now):
            return 0
        return max(1, -(-int((self.locked_until - now) / timedelta(seconds=1)) // 60))
