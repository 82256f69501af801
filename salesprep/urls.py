from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from callprep import search_views
from callprep import views as callprep_views

admin.site.site_header = "SalesPrep administration"
admin.site.site_title = "SalesPrep admin"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", callprep_views.healthz, name="healthz"),
    path("search/", search_views.search_page, name="search"),
    path("auth/", include("accounts.auth_urls")),
    path("accounts/", include("accounts.urls")),
    path("settings/", include("accounts.settings_urls")),
    path("evidence/", include("callprep.evidence.urls")),
    path("", include("callprep.urls")),
    path("briefs/", include("callprep.briefs.urls")),
    # The admin's login is our sign-in page: one throttle, one code step (accounts/views.py).
    path("admin/login/", account_views.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
