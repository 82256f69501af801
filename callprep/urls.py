from django.urls import include, path

from callprep import views
from callprep.dashboard import views as dashboard_views
from callprep.review import views as review_views

app_name = "callprep"

urlpatterns = [
    path("calls/mine/", views.my_calls, name="my_calls"),
    path("visits/", views.my_visits, name="my_visits"),
    path("calls/new/", views.call_create, name="call_create"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
    path("calls/<int:pk>/edit/", views.call_edit, name="call_edit"),
    path("calls/<int:pk>/call.ics", views.call_ics, name="call_ics"),
    path("calls/import/", views.calendar_import, name="calendar_import"),
    path("calls/import/<int:pk>/", views.calendar_assign, name="calendar_assign"),
    path("calls/feed/", views.feed_settings, name="feed_settings"),
    path("calls/feed/<str:key>/<str:secret>.ics", views.calendar_feed, name="calendar_feed"),
    path("reviews/", review_views.review_queue, name="review_queue"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("dashboard/", include("callprep.dashboard.urls")),
]
