"""The authentication backend: Django's model backend, with the user's roles loaded alongside.

Every signed-in request asks for the user's roles (the navigation, every access check), which
``User.role_names`` reads from the user's groups with a query of its own. On PostgreSQL the
backend reads them in the same query as the user, as an array of group names; elsewhere (the
embedded SQLite default) ``role_names`` keeps its own query.

Nothing is cached across requests: the user and the roles are read on every request, so taking
a role away or deactivating someone takes effect on their next request.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Exists, OuterRef, Q


def _user_with_roles(user_id: int):
    return (
        get_user_model()
        ._default_manager.filter(pk=user_id)
        .annotate(
            loaded_roles=ArrayAgg(
                "groups__name", filter=Q(groups__isnull=False), distinct=True, default=[]
            ),
            # ``User.has_view_all_teams``, as Django's ModelBackend answers ``has_perm``: a
            # superuser, or the permission through a group or given to the user.
            loaded_view_all=Exists(
                Permission.objects.filter(
                    Q(group__user=OuterRef("pk")) | Q(user=OuterRef("pk")),
                    content_type__app_label="accounts",
                    codename="view_all_teams",
                )
            ),
        )
        .order_by()
        .first()
    )


class RoleLoadingBackend(ModelBackend):
    def get_user(self, user_id):
        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        try:
            user = _user_with_roles(int(user_id))
        except (TypeError, ValueError):
            return None
        if user is None or not self.user_can_authenticate(user):
            return None
        # The cached property's slot: ``role_names`` will not query again.
        user.__dict__["role_names"] = frozenset(user.loaded_roles)
        user.__dict__["has_view_all_teams"] = user.is_active and (
            user.is_superuser or user.loaded_view_all
        )
        return user
