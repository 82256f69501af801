from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "People, teams and customer accounts"

    def ready(self) -> None:
        from django.core import checks

        from accounts import (
            signals,  # noqa: F401 - connects the audit and revocation receivers
            sso,
        )

        checks.register(sso.check_settings)
        checks.register(check_mfa_roles)


def check_mfa_roles(app_configs=None, **kwargs):
    """``MFA_REQUIRED_ROLES`` names only roles that exist: a typo must not switch MFA off."""
    from django.conf import settings
    from django.core import checks

    from accounts.roles import Role

    unknown = sorted(set(settings.MFA_REQUIRED_ROLES) - set(Role.values))
    if not unknown:
        return []
    return [
        checks.Error(
            f"MFA_REQUIRED_ROLES names {', '.join(map(repr, unknown))}, which is not a role.",
            hint=f"Use some of: {', '.join(Role.values)}.",
            id="accounts.E001",
        )
    ]
