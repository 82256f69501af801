from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import LoginThrottle, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")
    list_filter = ("groups", "is_active", "is_staff", "teams")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)
    filter_horizontal = ("managers", "members")


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    list_display = ("username", "ip_address", "failures", "last_failure_at", "locked_until")
    search_fields = ("username", "ip_address")
    readonly_fields = ("username", "ip_address", "failures", "last_failure_at")
