"""Create the headquarters' role groups (moderator, coordinator, lawyer, administrator) with
their permissions, using the same function as `manage.py role_groups`."""

from django.db import migrations


def role_groups_create(apps, schema_editor):
    from reports.services.roles import role_groups_ensure

    role_groups_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_protocols"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(role_groups_create, migrations.RunPython.noop)]
