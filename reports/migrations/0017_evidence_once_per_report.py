"""One evidence row per report and file: retries that raced before this stored the same
file twice. The later rows go (their bytes are the first row's, by SHA-256), their
downloads recorded against the first row, then the database refuses a second one."""

from django.db import migrations, models
from django.db.models import Count, Min


def duplicates_remove(apps, schema_editor) -> None:
    Evidence = apps.get_model("reports", "Evidence")
    EvidenceAccess = apps.get_model("reports", "EvidenceAccess")
    groups = (
        Evidence.objects.values("report_id", "sha256")
        .annotate(keep=Min("pk"), rows=Count("pk"))
        .filter(rows__gt=1)
    )
    for group in groups:
        later = Evidence.objects.filter(
            report_id=group["report_id"], sha256=group["sha256"], pk__gt=group["keep"]
        )
        EvidenceAccess.objects.filter(evidence__in=later).update(evidence_id=group["keep"])
        later.delete()
    if schema_editor.connection.vendor == "postgresql":
        # Check the deferred foreign keys now: ALTER TABLE refuses to run while they wait.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0016_report_public_description"),
    ]

    operations = [
        migrations.RunPython(duplicates_remove, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="evidence",
            constraint=models.UniqueConstraint(
                fields=("report", "sha256"), name="evidence_once_per_report"
            ),
        ),
    ]
