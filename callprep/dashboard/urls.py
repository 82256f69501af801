"""Drill-downs, CSV exports and the nudge, under ``callprep:dashboard:`` (the dashboard page
itself keeps the name ``callprep:dashboard``, which the navigation uses)."""

from django.urls import path

from callprep.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("calls/", views.calls, name="calls"),
    path("calls.csv", views.calls_csv, name="calls_csv"),
    path("reps.csv", views.reps_csv, name="reps_csv"),
    path("nudge/<int:pk>/", views.nudge_call, name="nudge"),
]
