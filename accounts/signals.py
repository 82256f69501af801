"""Signal receivers that keep the audit trail and end sessions when access is taken away.

These are infrastructure (an audit log, session revocation), not business rules: they must
fire however the change is made — a view, the admin, a shell.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from accounts import security
from accounts.models import AuditKind, Team, User


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    security.record(AuditKind.LOGIN, request=request, user=user)


@receiver(user_logged_out)
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        security.record(AuditKind.LOGOUT, request=request, user=user)


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    security.record(
        AuditKind.LOGIN_FAILED, request=request, username=credentials.get("username", "")
    )


def _team_membership_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Someone left a team (as member or manager): end their sessions at once."""
    if action == "pre_clear":
        if reverse:
            instance._revoke_on_clear = [instance]
        else:
            instance._revoke_on_clear = list(getattr(instance, kwargs["_field"]).all())
        return
    if action == "post_clear":
        users = getattr(instance, "_revoke_on_clear", [])
    elif action == "post_remove":
        users = [instance] if reverse else list(User.objects.filter(pk__in=pk_set or []))
    else:
        return
    team_names = (
        ", ".join(Team.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
        if reverse
        else instance.name
    )
    for user in users:
        security.revoke_sessions(user, reason=f"left team {team_names}".strip())


@receiver(m2m_changed, sender=Team.members.through)
def members_changed(sender, **kwargs):
    _team_membership_changed(sender, _field="members", **kwargs)


@receiver(m2m_changed, sender=Team.managers.through)
def managers_changed(sender, **kwargs):
    _team_membership_changed(sender, _field="managers", **kwargs)


@receiver(pre_save, sender=User)
def note_deactivation(sender, instance, **kwargs):
    instance._deactivated = (
        instance.pk is not None
        and not instance.is_active
        and User.objects.filter(pk=instance.pk, is_active=True).exists()
    )


@receiver(post_save, sender=User)
def end_sessions_on_deactivation(sender, instance, **kwargs):
    """A deactivated user is signed out everywhere, for good: reactivating the account later
    does not bring the old sessions back."""
    if getattr(instance, "_deactivated", False):
        instance._deactivated = False
        security.revoke_sessions(instance, reason="deactivated")
        # Keep the new stamp on this instance, so that saving it again does not undo it.
        instance.session_stamp = (
            User.objects.filter(pk=instance.pk).values_list("session_stamp", flat=True).get()
        )
