from django.contrib import admin

from callprep.changes import call_changed
from callprep.models import CalendarFeed, Call


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ("title", "account", "starts_at", "kind", "status", "owner", "executive")
    list_filter = ("status", "kind")
    search_fields = ("title", "account__name", "ical_uid")
    raw_id_fields = ("account", "owner", "executive", "created_by")
    filter_horizontal = ("contacts",)
    date_hierarchy = "starts_at"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        call_changed(obj)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "last_used_at")
    readonly_fields = ("user", "key", "secret_hash", "created_at", "last_used_at")
