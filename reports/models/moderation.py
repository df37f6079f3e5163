"""What the moderation panel adds to the domain: okrug scopes of staff, notes, escalations,
and the chain-of-custody log of downloads of original evidence files and protocol photos.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models.core import Evidence, Incident, Okrug
from reports.models.protocols import ProtocolCopy


class StaffScope(models.Model):
    """Limits a moderator or coordinator to some okrugs. A user without rows sees every okrug."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="okrug_scopes",
        verbose_name=_("staff member"),
    )
    okrug = models.ForeignKey(
        Okrug, on_delete=models.CASCADE, related_name="staff_scopes", verbose_name=_("okrug")
    )

    class Meta:
        verbose_name = _("okrug of a staff member")
        verbose_name_plural = _("okrugs of staff members")
        constraints = [models.UniqueConstraint(fields=["user", "okrug"], name="staffscope_unique")]

    def __str__(self) -> str:
        return f"{self.user} → {self.okrug}"


class IncidentNote(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("author")
    )
    text = models.TextField(_("note"), max_length=4000)
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.text[:60]


class Escalation(models.Model):
    """Help or follow-up asked for an incident: a mobile group, a lawyer, a complaint."""

    class Kind(models.TextChoices):
        MOBILE_GROUP = "mobile_group", _("mobile group")
        LAWYER = "lawyer", _("lawyer")
        COMPLAINT = "complaint", _("complaint")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("escalated by")
    )
    created_at = models.DateTimeField(_("escalated"), default=timezone.now)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["created_at"]
        permissions = [("draft_complaint", _("Can draft a complaint from an incident"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.incident_id}"


class EvidenceAccess(models.Model):
    """One download of an original evidence file or protocol photo (chain of custody).
    Append-only."""

    evidence = models.ForeignKey(
        Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="accesses"
    )
    protocol_copy = models.ForeignKey(
        ProtocolCopy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="photo_accesses",
        verbose_name=_("protocol copy"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("downloaded by")
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    sha256 = models.CharField(_("SHA-256 as recorded at receipt"), max_length=64)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("download of an original")
        verbose_name_plural = _("downloads of originals")
        ordering = ["-at"]
        indexes = [models.Index(fields=["evidence", "at"])]
        permissions = [("download_original", _("Can download original evidence files"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(evidence__isnull=False, protocol_copy__isnull=True)
                | models.Q(evidence__isnull=True, protocol_copy__isnull=False),
                name="evidence_access_of_one_file",
            )
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.user} {self.sha256[:12]}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("evidence accesses are append-only")
        super().save(*args, **kwargs)
