"""Formerly: a database trigger kept ``Brief.due_at`` in step with the call's start.

Business rules no longer live in the database: the due time is computed from the call's
current start in Python (callprep/briefs/models.py), and migration 0012 drops the trigger
from databases that had it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("callprep", "0008_brief_completeness")]
    operations = []
