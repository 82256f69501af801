from django.urls import path

from accounts import account_views, import_views

app_name = "accounts"

# Customer accounts and their stakeholders.
urlpatterns = [
    path("", account_views.account_list, name="list"),
    path("new/", account_views.account_create, name="create"),
    path("import/", import_views.import_upload, name="import"),
    path("import/<int:pk>/", import_views.import_preview, name="import_preview"),
    path("<int:pk>/", account_views.account_detail, name="detail"),
    path("<int:pk>/edit/", account_views.account_edit, name="edit"),
    path("<int:pk>/buying-process/", account_views.buying_process_edit, name="buying_process"),
    path("<int:pk>/stakeholders/new/", account_views.contact_create, name="contact_create"),
    path("stakeholders/<int:pk>/edit/", account_views.contact_edit, name="contact_edit"),
    path("stakeholders/<int:pk>/delete/", account_views.contact_delete, name="contact_delete"),
]
