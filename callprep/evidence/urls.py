from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("account/<int:account_pk>/", views.panel, name="panel"),
    path("account/<int:account_pk>/refresh/", views.refresh, name="refresh"),
    path("run/<int:run_pk>/", views.run_status, name="run_status"),
    path("<int:evidence_pk>/cite/", views.cite, name="cite"),
    path(
        "account/<int:account_pk>/insights/<slug:key>/add/",
        views.add_insight,
        name="add_insight",
    ),
    path("citation/<int:citation_pk>/", views.citation_detail, name="citation"),
]
