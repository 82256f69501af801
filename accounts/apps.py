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
