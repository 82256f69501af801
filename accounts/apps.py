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
        checks.register(check_site_url, checks.Tags.security, deploy=True)


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


def check_site_url(app_configs=None, **kwargs):
    """In production every e-mail links to ``SITE_URL``: still on localhost, each would lead
    nowhere (a deployment check, ``check --deploy``)."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.core import checks

    host = urlsplit(settings.SITE_URL).hostname or ""
    if settings.DEBUG or host not in {"localhost", "127.0.0.1", "::1"}:
        return []
    return [
        checks.Warning(
            f"SITE_URL is {settings.SITE_URL}, so the links in e-mails and calendar feeds "
            "lead to the reader's own computer.",
            hint="Set SITE_URL to the address people open, e.g. https://sales.example.com.",
            id="accounts.W001",
        )
    ]
