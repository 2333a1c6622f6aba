"""The role groups (administrator, operator, viewer) with their permissions."""
from django.db import migrations


def create_role_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from csms import roles

    # Permissions are normally created after all migrations; make them now so the groups get them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    every = list(Permission.objects.select_related("content_type"))
    operator = [p for p in every if p.content_type.app_label not in roles.ADMINISTRATOR_ONLY_APPS]
    viewer = [p for p in operator if p.codename.startswith("view_")]
    for name, permissions in ((roles.ADMINISTRATOR, every), (roles.OPERATOR, operator),
                              (roles.VIEWER, viewer)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def remove_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=("administrator", "operator",
                                                             "viewer")).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("csms", "0003_api_tokens_audit"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, remove_role_groups)]
