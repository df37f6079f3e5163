"""Indexes for the moderators' lists (PostgreSQL and SQLite alike).

- The queues sort incidents most severe first, then by latest report: an index on the same
  expression that `reports.selectors.severity_rank()` produces lets a page read 50 rows in
  order instead of sorting every incident.
- The dashboard's "waiting longest" reads the oldest new incidents.

Written as SQL because the Incident model (reports.models.core) declares no expression
index; the planner matches the expression text, so keep it in step with severity_rank().
"""

from django.db import migrations

QUEUE_ORDER = """
CREATE INDEX incident_queue_order ON reports_incident (
    (CASE WHEN severity = 'C' THEN 0 WHEN severity = 'S' THEN 1 ELSE 2 END),
    last_at DESC,
    id DESC
)
"""
NEW_WAITING = """
CREATE INDEX incident_new_waiting ON reports_incident (first_at) WHERE status = 'new'
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0009_coverage")]

    operations = [
        migrations.RunSQL(QUEUE_ORDER, "DROP INDEX incident_queue_order"),
        migrations.RunSQL(NEW_WAITING, "DROP INDEX incident_new_waiting"),
    ]
