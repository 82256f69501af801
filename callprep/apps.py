from django.apps import AppConfig


class CallprepConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "callprep"
    verbose_name = "Calls, briefs and evidence"
