from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import (
    Account,
    AuditEvent,
    BuyingProcess,
    Contact,
    LoginThrottle,
    Team,
    User,
)


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


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "title", "email", "buying_role", "influence", "stance", "reports_to")
    raw_id_fields = ("reports_to",)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "country", "naics_code", "owner", "team", "updated_at")
    list_filter = ("team", "country")
    search_fields = ("name", "domain", "ticker", "external_id")
    raw_id_fields = ("owner",)
    readonly_fields = ("domain", "created_at", "updated_at")
    inlines = [ContactInline]

    def save_model(self, request, obj, form, change):
        from callprep.changes import account_changed

        super().save_model(request, obj, form, change)
        account_changed(obj, form.changed_data)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "account", "buying_role", "influence", "stance")
    list_filter = ("buying_role", "stance")
    search_fields = ("name", "email", "account__name")
    raw_id_fields = ("account", "reports_to")


@admin.register(BuyingProcess)
class BuyingProcessAdmin(admin.ModelAdmin):
    list_display = ("account", "updated_at", "updated_by")
    raw_id_fields = ("account", "updated_by")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "username", "ip_address", "method", "path", "status")
    list_filter = ("kind",)
    search_fields = ("username", "path", "ip_address")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
