"""Create the four role groups with their named permissions."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "Rep": ["prepare_briefs"],
    "Executive": ["review_briefs"],
    "Manager": ["view_team_dashboard"],
    "Admin": [
        "prepare_briefs",
        "review_briefs",
        "view_team_dashboard",
        "view_all_teams",
        "administer_salesprep",
    ],
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; make sure ours exist now.
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = Permission.objects.filter(
            content_type__app_label="accounts", codename__in=codenames
        )
        group.permissions.add(*perms)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
