"""The quick count: a random sample of stations and the estimates stored from it
(DOMAIN.md §7; the estimators are in `reports/domain/quickcount.py`)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models.core import Election, Station


class QuickCountSample(models.Model):
    """A stratified random sample of an election's stations, drawn reproducibly by `seed`.

    The latest sample of an election is the one estimated and shown.
    """

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    seed = models.PositiveBigIntegerField(_("seed"))
    size = models.PositiveIntegerField(_("sample size"))
    expected_margin = models.FloatField(_("expected margin of error"))
    threshold = models.FloatField(_("run-off threshold"), default=0.5)
    stations = models.ManyToManyField(Station, related_name="+", verbose_name=_("stations"))
    drawn_at = models.DateTimeField(_("drawn"), default=timezone.now)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    estimate = models.JSONField(_("estimate"), null=True, blank=True)
    estimated_at = models.DateTimeField(_("estimated"), null=True, blank=True)

    class Meta:
        verbose_name = _("quick-count sample")
        verbose_name_plural = _("quick-count samples")
        ordering = ["-drawn_at"]
        get_latest_by = "drawn_at"

    def __str__(self) -> str:
        return f"{self.election}: {self.size} (seed {self.seed})"
