import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, ImportFile
from callprep.models import CalendarImport, Call

pytestmark = pytest.mark.django_db


def test_the_import_benchmark_prints_upload_and_page_times_and_leaves_nothing_behind():
    out = io.StringIO()

    call_command(
        "bench_imports",
        runs=2,
        csv_rows=120,
        csv_columns=12,
        events=30,
        allow_production=True,
        stdout=out,
    )

    text = out.getvalue()
    assert "CSV: 120 rows, 12 columns" in text
    assert "run 2: upload" in text and "(120 new, 0 errors)" in text
    assert "CSV median of 2: upload" in text and "preview GET page 1" in text
    assert "import (the worker's task)" in text and "in 2 batches of 100 rows" in text
    assert "CSV import median of 2:" in text
    assert "(15 calls, 15 to assign)" in text
    assert "ICS median of 2: upload" in text and "result GET page 1" in text
    assert "in 1 batches of 50 events" in text and "ICS import median of 2:" in text
    assert "Rolled back: nothing was written." in text
    assert not Account.objects.exists()
    assert not (ImportFile.objects.exists() or CalendarImport.objects.exists())
    assert not Call.objects.exists()


def test_the_import_benchmark_refuses_a_production_database():
    with pytest.raises(CommandError, match="production"):
        call_command("bench_imports", runs=1)
