"""An index for the mobile groups' board: the oldest incidents that asked for a group.

Written as SQL because the Incident model (reports.models.core) declares no partial index
on the flag; the same statement works on PostgreSQL and SQLite.
"""

from django.db import migrations

NEEDS_GROUP = """
CREATE INDEX incident_needs_group ON reports_incident (first_at, id) WHERE needs_mobile_group
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0011_coverage_roles")]

    operations = [migrations.RunSQL(NEEDS_GROUP, "DROP INDEX incident_needs_group")]
