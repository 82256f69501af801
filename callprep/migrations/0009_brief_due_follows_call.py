"""Keep each brief's ``due_at`` in step with its call's start.

``due_at`` (BRIEF_DUE_HOURS before the call) is set when the brief starts and at each workflow
step; a call moved later (the call form, a calendar re-import, any ``update()``) used to leave
it stale until the next step. A row trigger on the call's ``starts_at`` now shifts the due time
by the same amount in the same statement, so queries may bound on ``due_at`` with its index
(the review queue does).
"""

from django.db import migrations

POSTGRES_TRIGGER = """
CREATE FUNCTION callprep_brief_due_follows_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE callprep_brief
    SET due_at = due_at + (NEW.starts_at - OLD.starts_at)
    WHERE call_id = NEW.id AND due_at IS NOT NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER callprep_brief_due_follows_call
AFTER UPDATE OF starts_at ON callprep_call
FOR EACH ROW
WHEN (OLD.starts_at IS DISTINCT FROM NEW.starts_at)
EXECUTE FUNCTION callprep_brief_due_follows_call();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS callprep_brief_due_follows_call ON callprep_call;
DROP FUNCTION IF EXISTS callprep_brief_due_follows_call();
"""
# SQLite keeps datetimes as ISO text in UTC: shift by the whole seconds between the old and
# the new start (exact, unlike julianday arithmetic), writing the same text format back.
SQLITE_TRIGGER = """
CREATE TRIGGER callprep_brief_due_follows_call
AFTER UPDATE OF starts_at ON callprep_call
FOR EACH ROW
WHEN OLD.starts_at IS NOT NEW.starts_at
BEGIN
    UPDATE callprep_brief
    SET due_at = strftime(
        '%Y-%m-%d %H:%M:%f',
        due_at,
        printf('%+d seconds', strftime('%s', NEW.starts_at) - strftime('%s', OLD.starts_at))
    )
    WHERE call_id = NEW.id AND due_at IS NOT NULL;
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS callprep_brief_due_follows_call;"


def sync_due_times(apps, schema_editor):
    """Bring every stored due time in step with its call once (the trigger keeps it so)."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import DateTimeField, ExpressionWrapper, OuterRef, Subquery, Value

    Brief = apps.get_model("callprep", "Brief")
    Call = apps.get_model("callprep", "Call")
    hours = timedelta(hours=getattr(settings, "BRIEF_DUE_HOURS", 48))
    starts = Subquery(Call.objects.filter(pk=OuterRef("call_id")).values("starts_at")[:1])
    Brief.objects.filter(due_at__isnull=False).update(
        due_at=ExpressionWrapper(starts - Value(hours), output_field=DateTimeField())
    )


def create_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_TRIGGER)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER)


def drop_trigger(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DROP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP)


class Migration(migrations.Migration):
    dependencies = [("callprep", "0008_brief_completeness")]
    operations = [
        migrations.RunPython(sync_due_times, migrations.RunPython.noop),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
