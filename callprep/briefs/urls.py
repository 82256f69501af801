from django.urls import path
from django.views.generic import RedirectView

from callprep.briefs import views
from callprep.review import views as review

app_name = "briefs"

urlpatterns = [
    path("call/<int:call_pk>/", views.for_call, name="for_call"),
    path("call/<int:call_pk>/start/", views.start, name="start"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/sections/<slug:key>/", views.section, name="section"),
    path("<int:pk>/sections/<slug:key>/preview/", views.preview, name="preview"),
    path("<int:pk>/sections/<slug:key>/history/", views.history, name="history"),
    path("<int:pk>/sections/<slug:key>/revisions/<uuid:rev_pk>/", views.revision, name="revision"),
    path(
        "<int:pk>/sections/<slug:key>/revisions/<uuid:rev_pk>/restore/",
        views.restore,
        name="restore",
    ),
    # Review workflow (callprep/review/views.py); transitions are POST only.
    # The review queue answers at /reviews/ (callprep:review_queue); old links land there.
    path(
        "reviews/",
        RedirectView.as_view(
            pattern_name="callprep:review_queue", permanent=True, query_string=True
        ),
    ),
    path("<int:pk>/submit/", review.submit, name="submit"),
    path("<int:pk>/withdraw/", review.withdraw, name="withdraw"),
    path("<int:pk>/review/", review.review, name="review"),
    path("<int:pk>/approve/", review.approve, name="approve"),
    path("<int:pk>/request-changes/", review.request_changes, name="request_changes"),
    path("<int:pk>/briefed/", review.briefed, name="briefed"),
    path("<int:pk>/executive/", review.executive_view, name="executive"),
    path("<int:pk>/changes/", review.changes, name="changes"),
    path("<int:pk>/audit/", review.audit, name="audit"),
    path("<int:pk>/comments/", review.comments, name="comments"),
    path(
        "<int:pk>/comments/<int:comment_pk>/resolve/",
        review.resolve_comment,
        name="resolve_comment",
    ),
    path("notifications/", review.notifications, name="notifications"),
    path("notifications/read/", review.notifications_read, name="notifications_read"),
    path(
        "notifications/<int:notification_pk>/open/",
        review.notification_open,
        name="notification_open",
    ),
    path("notifications/settings/", review.notification_settings, name="notification_settings"),
]
