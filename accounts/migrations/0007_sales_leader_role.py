"""The Sales leader role: a group with ``view_team_dashboard`` and ``view_all_teams``, for the
head of sales who sees every team without administering SalesPrep."""

from django.db import migrations

NAME = "Sales leader"
CODENAMES = ["view_team_dashboard", "view_all_teams"]


def create_role(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=NAME)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="accounts", codename__in=CODENAMES)
    )


def remove_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_user_time_zone")]

    operations = [migrations.RunPython(create_role, remove_role)]
