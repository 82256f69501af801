from django.urls import path

from callprep import views

app_name = "callprep"

urlpatterns = [
    path("calls/mine/", views.my_calls, name="my_calls"),
    path("reviews/", views.review_queue, name="review_queue"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
