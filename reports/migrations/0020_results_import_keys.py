"""Official results keyed by the region as compared (case, spacing and ё/е aside), and the
import log's outcome.

Rows of one station stored twice under differently spelled regions are merged first: the
latest one stays, as the latest import was the one meant to hold.
"""

from django.db import migrations, models


def region_key(region: str) -> str:
    # As reports.importers.table.normalise; copied so this migration never changes.
    return " ".join(region.replace("ё", "е").replace("Ё", "Е").split()).casefold()


def keys_fill(apps, schema_editor) -> None:
    OfficialResult = apps.get_model("reports", "OfficialResult")
    # No ordering: with the model's, DISTINCT would keep one row per station, not per region.
    regions = OfficialResult.objects.order_by().values_list("region", flat=True).distinct()
    for region in regions:
        OfficialResult.objects.filter(region=region).update(region_key=region_key(region))
    repeated = (
        OfficialResult.objects.order_by()
        .values("election_id", "region_key", "uik")
        .annotate(count=models.Count("pk"), latest=models.Max("pk"))
        .filter(count__gt=1)
    )
    for row in repeated:
        OfficialResult.objects.filter(
            election_id=row["election_id"], region_key=row["region_key"], uik=row["uik"]
        ).exclude(pk=row["latest"]).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0019_protocol_photo_accesses")]

    operations = [
        migrations.AddField(
            model_name="officialresult",
            name="region_key",
            field=models.CharField(default="", editable=False, max_length=200),
            preserve_default=False,
        ),
        migrations.RunPython(keys_fill, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="officialresult", name="official_result_unique"),
        migrations.AddConstraint(
            model_name="officialresult",
            constraint=models.UniqueConstraint(
                fields=("election", "region_key", "uik"), name="official_result_unique_key"
            ),
        ),
        migrations.AddField(
            model_name="resultsimport",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("running", "running"),
                    ("imported", "imported"),
                    ("partial", "good rows imported, bad rows refused"),
                    ("refused", "refused: nothing imported"),
                    ("failed", "failed: nothing imported"),
                ],
                default="running",
                max_length=16,
                verbose_name="outcome",
            ),
        ),
        migrations.AddField(
            model_name="resultsimport",
            name="error",
            field=models.TextField(blank=True, verbose_name="error"),
        ),
        migrations.AddField(
            model_name="resultsimport",
            name="control_failed",
            field=models.PositiveIntegerField(
                default=0, verbose_name="rows kept with failed control relations"
            ),
        ),
    ]
