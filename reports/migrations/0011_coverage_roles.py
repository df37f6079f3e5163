"""Give the role groups the permissions of the coverage models (the administrator holds every
permission of the app), with the same function as `manage.py role_groups`."""

from django.db import migrations


def role_groups_update(apps, schema_editor):
    from reports.services.roles import role_groups_ensure

    role_groups_ensure(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("reports", "0010_incident_queue_indexes")]

    operations = [migrations.RunPython(role_groups_update, migrations.RunPython.noop)]
