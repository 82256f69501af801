from django.urls import path  # noqa: F401

app_name = "accounts"

# Customer accounts and their stakeholders.
urlpatterns: list = []
