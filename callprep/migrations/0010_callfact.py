"""The dashboard's read model: one row of facts per call (callprep/dashboard/models.py).

Formerly filled by database triggers; migration 0012 drops them from databases that had them,
and the rows are now written by one Python write path (callprep/dashboard/facts.py).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_audit_and_session_stamp"),
        ("callprep", "0009_brief_due_follows_call"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CallFact",
            fields=[
                (
                    "call",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="fact",
                        serialize=False,
                        to="callprep.call",
                    ),
                ),
                ("kind", models.CharField(max_length=20)),
                ("status", models.CharField(max_length=10)),
                ("starts_at", models.DateTimeField()),
                ("time_zone", models.CharField(max_length=64)),
                ("brief_status", models.CharField(blank=True, max_length=20)),
                ("approved_at", models.DateTimeField(null=True)),
                ("executive_read_at", models.DateTimeField(null=True)),
                ("sections_required", models.PositiveSmallIntegerField(default=0)),
                ("sections_complete", models.PositiveSmallIntegerField(default=0)),
                (
                    "executive",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="accounts.team",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["team", "starts_at"],
                        include=(
                            "owner",
                            "executive",
                            "kind",
                            "status",
                            "time_zone",
                            "brief_status",
                            "approved_at",
                            "executive_read_at",
                            "sections_required",
                            "sections_complete",
                        ),
                        name="callfact_team_start_idx",
                    ),
                    models.Index(
                        fields=["starts_at"],
                        include=(
                            "team",
                            "owner",
                            "executive",
                            "kind",
                            "status",
                            "time_zone",
                            "brief_status",
                            "approved_at",
                            "executive_read_at",
                            "sections_required",
                            "sections_complete",
                        ),
                        name="callfact_start_idx",
                    ),
                    models.Index(fields=["owner", "starts_at"], name="callfact_owner_start_idx"),
                ],
            },
        ),
    ]
