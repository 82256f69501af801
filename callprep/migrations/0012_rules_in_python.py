"""Business rules leave the database.

Drops the triggers that migrations 0008-0010 used to create (where a database has them): the
section-completeness counter, the due time following the call, and the calls' facts. The due
time, on time and lateness are now computed from the call's current start in Python
(callprep/briefs/models.py); the facts are written by one Python write path
(callprep/dashboard/facts.py). The stored copies those triggers kept are removed.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# Only DROP … IF EXISTS: a database created after the triggers were taken out of 0008-0010 has
# none of them.
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS callprep_section_completeness ON callprep_briefsection;
DROP FUNCTION IF EXISTS callprep_section_completeness();
DROP TRIGGER IF EXISTS callprep_brief_due_follows_call ON callprep_call;
DROP FUNCTION IF EXISTS callprep_brief_due_follows_call();
DROP TRIGGER IF EXISTS callprep_callfact_account_update ON accounts_account;
DROP FUNCTION IF EXISTS callprep_callfact_on_account();
DROP FUNCTION IF EXISTS callprep_callfact_on_read() CASCADE;
DROP FUNCTION IF EXISTS callprep_callfact_on_brief() CASCADE;
DROP FUNCTION IF EXISTS callprep_callfact_on_call() CASCADE;
DROP FUNCTION IF EXISTS callprep_callfact_refresh(bigint[]);
"""
SQLITE_NAMES = [
    "callprep_section_completeness",
    "callprep_brief_due_follows_call",
    *(
        f"callprep_callfact_{table}_{event}"
        for table in ("call", "brief", "read")
        for event in ("insert", "update", "delete")
    ),
    "callprep_callfact_account_update",
]


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        for name in SQLITE_NAMES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_user_time_zone'),
        ('callprep', '0011_notification_nudge'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_triggers, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='brief',
            name='brief_status_due_idx',
        ),
        migrations.RemoveIndex(
            model_name='brief',
            name='brief_call_dashboard_idx',
        ),
        migrations.RemoveField(
            model_name='approval',
            name='late',
        ),
        migrations.RemoveField(
            model_name='brieftransition',
            name='late',
        ),
        migrations.AlterField(
            model_name='callfact',
            name='call',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='fact', serialize=False, to='callprep.call'),
        ),
        migrations.AddIndex(
            model_name='brief',
            index=models.Index(fields=['status'], name='brief_status_idx'),
        ),
        migrations.RemoveField(
            model_name='brief',
            name='approved_late',
        ),
        migrations.RemoveField(
            model_name='brief',
            name='due_at',
        ),
        migrations.RemoveField(
            model_name='brief',
            name='sections_complete',
        ),
        migrations.RemoveField(
            model_name='brief',
            name='sections_required',
        ),
        migrations.RemoveField(
            model_name='brief',
            name='submitted_late',
        ),
    ]
