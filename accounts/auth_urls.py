from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import mfa_views, views

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("sso/start/", views.sso_start, name="sso_start"),
    path("sso/callback/", views.sso_callback, name="sso_callback"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("two-step/", mfa_views.verify, name="mfa_verify"),
    path("two-step/setup/", mfa_views.setup, name="mfa_setup"),
    path("two-step/recovery-codes/", mfa_views.recovery_codes, name="mfa_recovery_codes"),
    path("two-step/off/", mfa_views.disable, name="mfa_disable"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        views.ResetRequestView.as_view(),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.ResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
