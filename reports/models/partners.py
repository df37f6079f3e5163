"""Partners of the API: their tokens, and the bulk export jobs anyone may start.

A token is shown once when an administrator creates it; only its SHA-256 is stored, so a
database leak does not let anyone read the API. An export job's file lives in private
storage until it expires, then the beat task deletes it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TokenScope(models.TextChoices):
    PUBLIC_READ = "public_read", _("public read")
    FULL_READ = "full_read", _("full read (pseudonyms, every status)")
    SUBMIT = "submit", _("submit reports (and public read)")


class PartnerToken(models.Model):
    name = models.CharField(_("partner"), max_length=200)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the token, to tell tokens apart without storing them.
    prefix = models.CharField(_("token starts with"), max_length=12)
    scope = models.CharField(_("scope"), max_length=16, choices=TokenScope.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner token")
        verbose_name_plural = _("partner tokens")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ExportShape(models.TextChoices):
    INCIDENTS = "incidents", _("incidents")
    REPORTS = "reports", _("reports")


class ExportFormat(models.TextChoices):
    NDJSON_GZ = "ndjson.gz", _("NDJSON, gzip-compressed")
    JSON = "json", _("JSON array")
    CSV = "csv", _("CSV")


class ExportScope(models.TextChoices):
    PUBLIC = "public", _("public dataset")
    FULL = "full", _("full (pseudonyms, every status)")


class ExportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    # A UUID, so that a job's address cannot be guessed from another's.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shape = models.CharField(_("records"), max_length=16, choices=ExportShape.choices)
    format = models.CharField(_("format"), max_length=16, choices=ExportFormat.choices)
    scope = models.CharField(_("scope"), max_length=16, choices=ExportScope.choices)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="export_jobs",
        verbose_name=_("requested by"),
    )
    token = models.ForeignKey(
        PartnerToken,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="export_jobs",
        verbose_name=_("partner token"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    rows_total = models.PositiveBigIntegerField(_("records to write"), null=True, blank=True)
    rows_done = models.PositiveBigIntegerField(_("records written"), default=0)
    file_path = models.CharField(max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="done"),
                name="exportjob_done_expiry",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_shape_display()} {self.format} ({self.get_status_display()})"
