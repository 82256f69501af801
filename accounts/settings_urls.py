from django.urls import path

from accounts import settings_views

app_name = "site_settings"

# The admins' settings screen (accounts/sitesettings.py).
urlpatterns = [
    path("", settings_views.settings_page, name="page"),
    path("data-sources/", settings_views.save_sources, name="sources"),
    path("security/", settings_views.save_security, name="security"),
]
