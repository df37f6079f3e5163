"""Incidents and reports once public: from now on marked before any decision on a verified
incident; before now, as far as the audit log tells (every incident ever verified, and its
reports)."""

from django.db import migrations, models
from django.db.models import Min


def published_from_audit(apps, schema_editor) -> None:
    AuditEntry = apps.get_model("reports", "AuditEntry")
    Incident = apps.get_model("reports", "Incident")
    Report = apps.get_model("reports", "Report")
    verified = (
        AuditEntry.objects.filter(object_type="incident", action="incident_verify")
        .values("object_id")
        .annotate(first=Min("at"))
    )
    for entry in verified.iterator():
        incident_id = int(entry["object_id"])
        Incident.objects.filter(pk=incident_id).update(published_at=entry["first"])
        Report.objects.filter(incident_id=incident_id).update(published_at=entry["first"])


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0017_evidence_once_per_report"),
    ]

    operations = [
        migrations.AddField(
            model_name="incident",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="once public"),
        ),
        migrations.AddField(
            model_name="report",
            name="published_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="once public"),
        ),
        migrations.RunPython(published_from_audit, migrations.RunPython.noop),
    ]
