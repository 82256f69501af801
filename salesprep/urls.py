from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from accounts.signin import AdminSignInForm
from callprep import views as callprep_views

admin.site.site_header = "SalesPrep administration"
admin.site.site_title = "SalesPrep admin"
# The admin's login goes through the same sign-in throttle as ours (accounts/signin.py).
admin.site.login_form = AdminSignInForm

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", callprep_views.healthz, name="healthz"),
    path("auth/", include("accounts.auth_urls")),
    path("accounts/", include("accounts.urls")),
    path("evidence/", include("callprep.evidence.urls")),
    path("", include("callprep.urls")),
    path("briefs/", include("callprep.briefs.urls")),
    path("admin/", admin.site.urls),
]
