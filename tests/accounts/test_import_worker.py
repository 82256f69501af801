"""A real Celery worker on Redis imports a confirmed CSV upload end to end."""

import pytest
from django.urls import reverse

from accounts.models import Account, ImportFile, ImportState
from tests.accounts.test_import import many_rows, press_import, preview_url
from tests.callprep.test_worker_integration import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

__all__ = ["celery_worker"]


def test_the_worker_imports_a_confirmed_upload_and_the_page_shows_it_done(
    celery_worker, alice_client, settings
):
    settings.CSV_IMPORT_BATCH_ROWS = 40
    url = preview_url(alice_client, many_rows(100))

    assert press_import(alice_client, url).status_code == 302

    assert wait_for(lambda: ImportFile.objects.get().state == ImportState.DONE, timeout=30)
    stored = ImportFile.objects.get()
    assert (stored.rows_done, stored.created_count, stored.failed_count) == (100, 100, 0)
    assert Account.objects.count() == 100
    html = alice_client.get(reverse("accounts:import_preview", args=[stored.pk])).content.decode()
    assert "<strong>100</strong> accounts created" in html
