"""The domain of DOMAIN.md: elections, places, categories, observers, reports, incidents.

A report is what one person sent; an incident is one real event at one station resting on
one or more reports (DOMAIN.md §5). Observers' contacts live in their own table so that
everything outside the moderation panel can see a pseudonym and a role only.
"""

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from reports.domain.times import moment_check, moment_constraint

# The largest count a report may carry (people in a line, ballots in a bundle).
REPORT_COUNT_MAX = 100_000


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value}) from None


class Election(models.Model):
    name = models.CharField(_("name"), max_length=200)
    date = models.DateField(_("election day"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_time_zone]
    )
    polls_open = models.TimeField(_("polls open"), default="08:00")
    polls_close = models.TimeField(_("polls close"), default="20:00")
    protocol_template = models.JSONField(_("protocol template"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # An archived election keeps every row but takes no more writes: its observers' links
    # are revoked, the form pages no longer offer it, and the admin shows it read-only.
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("election")
        verbose_name_plural = _("elections")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_datetime(self, at) -> "timezone.datetime":
        return timezone.datetime.combine(self.date, at, tzinfo=self.tz)

    def polls_close_at(self):
        return self.local_datetime(self.polls_close)

    def polls_open_at(self):
        return self.local_datetime(self.polls_open)


class Okrug(models.Model):
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="okrugs")
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("okrug")
        verbose_name_plural = _("okrugs")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["election", "name"], name="okrug_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Tik(models.Model):
    """A territorial election commission (one per district)."""

    okrug = models.ForeignKey(Okrug, on_delete=models.CASCADE, related_name="tiks")
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("territorial commission")
        verbose_name_plural = _("territorial commissions")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["okrug", "name"], name="tik_unique_name")]

    def __str__(self) -> str:
        return self.name


class Station(models.Model):
    """A polling station (UIK). Election and okrug are copied from the TIK for fast filters."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="stations")
    okrug = models.ForeignKey(Okrug, on_delete=models.CASCADE, related_name="stations")
    tik = models.ForeignKey(Tik, on_delete=models.CASCADE, related_name="stations")
    number = models.PositiveIntegerField(_("station number"))
    is_temporary = models.BooleanField(_("temporary station"), default=False)
    has_scanner = models.BooleanField(_("optical scanners (KOIB)"), default=False)
    address = models.CharField(_("address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("polling station")
        verbose_name_plural = _("polling stations")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["election", "number"], name="station_unique_number")
        ]

    def __str__(self) -> str:
        return _("Station %(number)s") % {"number": self.number}


class Phase(models.TextChoices):
    OPENING = "opening", _("opening")
    VOTING = "voting", _("voting")
    HOME_VOTING = "home_voting", _("home voting")
    COUNTING = "counting", _("counting")
    TABULATION = "tabulation", _("tabulation")
    RIGHTS = "rights", _("observers' rights")
    OTHER = "other", _("other")


class Severity(models.TextChoices):
    CRITICAL = "C", _("critical")
    SERIOUS = "S", _("serious")
    PROCEDURAL = "P", _("procedural")


SEVERITY_RANK = {Severity.CRITICAL: 3, Severity.SERIOUS: 2, Severity.PROCEDURAL: 1}


class Category(models.Model):
    """An incident category of DOMAIN.md §4, loaded by a data migration."""

    code = models.CharField(_("code"), max_length=4, primary_key=True)
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices)
    severity = models.CharField(_("default severity"), max_length=1, choices=Severity.choices)
    golos_code = models.CharField(_("Golos code"), max_length=40, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    hint_en = models.CharField(_("hint (English)"), max_length=300, blank=True)
    hint_ru = models.CharField(_("hint (Russian)"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    discouraged = models.BooleanField(_("discouraged"), default=False)
    system_only = models.BooleanField(_("raised by the system only"), default=False)
    # A category in use is retired rather than deleted: old reports keep it, forms stop
    # offering it.
    retired = models.BooleanField(_("retired"), default=False)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return self.name_ru if (get_language() or "ru").startswith("ru") else self.name_en

    @property
    def hint(self) -> str:
        return self.hint_ru if (get_language() or "ru").startswith("ru") else self.hint_en


class LegalStatus(models.TextChoices):
    OBSERVER = "observer", _("observer")
    CONSULTATIVE = "consultative", _("commission member, consultative vote")
    DECIDING = "deciding", _("commission member, deciding vote")
    JOURNALIST = "journalist", _("journalist")


class Trust(models.IntegerChoices):
    CITIZEN = 0, _("anonymous citizen")
    NEW = 1, _("new observer")
    TRAINED = 2, _("trained observer")
    TRUSTED = 3, _("trusted observer")


class Observer(models.Model):
    """A volunteer, known to the incident system only by pseudonym and role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="observer"
    )
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="observers")
    pseudonym = models.CharField(_("pseudonym"), max_length=80, unique=True)
    legal_status = models.CharField(
        _("legal status"), max_length=16, choices=LegalStatus.choices, default=LegalStatus.OBSERVER
    )
    trust = models.PositiveSmallIntegerField(_("trust"), choices=Trust.choices, default=Trust.NEW)
    stations = models.ManyToManyField(
        Station, through="Assignment", related_name="observers", verbose_name=_("stations")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("observer")
        verbose_name_plural = _("observers")
        ordering = ["pseudonym"]

    def __str__(self) -> str:
        return self.pseudonym


class ObserverContact(models.Model):
    """Personal data, kept apart: visible only with the view_observercontact permission."""

    observer = models.OneToOneField(Observer, on_delete=models.CASCADE, related_name="contact")
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    messenger = models.CharField(_("messenger"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("observer contact")
        verbose_name_plural = _("observer contacts")

    def __str__(self) -> str:
        return _("Contact of %(pseudonym)s") % {"pseudonym": self.observer.pseudonym}


class Assignment(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        ARRIVED = "arrived", _("arrived")
        LEFT = "left", _("left")
        REMOVED = "removed", _("removed by the commission")

    observer = models.ForeignKey(Observer, on_delete=models.CASCADE, related_name="assignments")
    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(fields=["observer", "station"], name="assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.observer} @ {self.station}"


class SignInLink(models.Model):
    """A personal sign-in link. Only the token's SHA-256 is stored."""

    observer = models.ForeignKey(Observer, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    short_code = models.CharField(_("short code"), max_length=12, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")

    def __str__(self) -> str:
        return _("Link of %(pseudonym)s") % {"pseudonym": self.observer.pseudonym}

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SignInSession(models.Model):
    """A session a personal link opened, so that revoking the link can end it at once
    (services.signin) instead of every request asking whether its link still holds."""

    link = models.ForeignKey(SignInLink, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("session opened with a link")
        verbose_name_plural = _("sessions opened with links")

    def __str__(self) -> str:
        return f"{self.link_id}: {self.session_key[:8]}…"


class Channel(models.TextChoices):
    WEB = "web", _("web form")
    API = "api", _("API")
    PHONE = "phone", _("phone line")
    CITIZEN = "citizen", _("anonymous citizen form")
    SYSTEM = "system", _("raised by the system")


class ReporterRole(models.TextChoices):
    OBSERVER = "observer", _("observer")
    CONSULTATIVE = "consultative", _("commission member, consultative vote")
    DECIDING = "deciding", _("commission member, deciding vote")
    JOURNALIST = "journalist", _("journalist")
    CITIZEN = "citizen", _("citizen")
    SYSTEM = "system", _("system")


class ReviewStatus(models.TextChoices):
    NEW = "new", _("new")
    VERIFIED = "verified", _("verified")
    REJECTED = "rejected", _("rejected")
    ESCALATED = "escalated", _("escalated")


class Incident(models.Model):
    """One real event at one station, resting on one or more reports."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="incidents")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="incidents")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="incidents")
    status = models.CharField(
        _("status"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.NEW
    )
    severity = models.CharField(_("severity"), max_length=1, choices=Severity.choices)
    confidence = models.FloatField(_("confidence"), default=0.0)
    report_count = models.PositiveIntegerField(_("reports"), default=0)
    reporter_count = models.PositiveIntegerField(_("distinct reporters"), default=0)
    first_at = models.DateTimeField(_("first report"))
    last_at = models.DateTimeField(_("last report"))
    needs_mobile_group = models.BooleanField(_("mobile group needed"), default=False)
    needs_lawyer = models.BooleanField(_("lawyer needed"), default=False)
    # Set when a moderator merges or splits: the clustering job then leaves it alone.
    pinned_by_moderator = models.BooleanField(_("arranged by a moderator"), default=False)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claimed_incidents",
        verbose_name=_("claimed by"),
    )
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Set, once, before a decision on a verified incident: public readers may have it, so
    # the API's sync tells them when it leaves their view (and tells nothing of the others).
    published_at = models.DateTimeField(_("once public"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-last_at"]
        indexes = [
            models.Index(fields=["station", "category", "last_at"]),
            models.Index(fields=["status", "severity", "-last_at"]),
            models.Index(fields=["updated_at"]),
        ]
        constraints = [
            moment_constraint("incident", "first_at"),
            moment_constraint("incident", "last_at"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.category_id} @ {self.station}"


class Report(models.Model):
    """What one person sent. Accepted exactly once per client-generated UUID."""

    uuid = models.UUIDField(_("client UUID"), unique=True, default=uuid.uuid4)
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="reports")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="reports")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports")
    observer = models.ForeignKey(
        Observer, on_delete=models.PROTECT, null=True, blank=True, related_name="reports"
    )
    reporter_role = models.CharField(
        _("reporter role"), max_length=16, choices=ReporterRole.choices
    )
    trust = models.PositiveSmallIntegerField(_("trust"), choices=Trust.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # The device clock is kept but not trusted; received_at is the time that counts.
    occurred_at = models.DateTimeField(
        _("time it happened"), null=True, blank=True, validators=[moment_check]
    )
    received_at = models.DateTimeField(
        _("received"), default=timezone.now, db_index=True, validators=[moment_check]
    )
    description = models.TextField(_("description"), max_length=5000, blank=True)
    # The description as the public may read it (domain.redaction), written when the report
    # is aggregated: only aggregated reports belong to an incident, and so can be public.
    public_description = models.TextField(blank=True, default="", db_default="", editable=False)
    count = models.PositiveIntegerField(_("count"), null=True, blank=True)
    complaint_filed = models.BooleanField(_("complaint filed"), default=False)
    police_called = models.BooleanField(_("police called"), default=False)
    violation_stopped = models.BooleanField(_("violation stopped"), default=False)
    needs_mobile_group = models.BooleanField(_("mobile group needed"), default=False)
    needs_lawyer = models.BooleanField(_("lawyer needed"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.NEW
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    # SHA-256 of the submitted content: a replayed UUID with other content is refused.
    content_hash = models.CharField(max_length=64)
    # Null until the aggregation job has taken this version of the report into account.
    aggregated_at = models.DateTimeField(null=True, blank=True)
    # Set when aggregating this report failed: later runs skip it until it is changed.
    quarantined_at = models.DateTimeField(_("quarantined"), null=True, blank=True)
    # A database default too: raw INSERTs (benchmarks, repairs) need not name it.
    aggregation_error = models.TextField(
        _("aggregation error"), blank=True, default="", db_default=""
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
    published_at = models.DateTimeField(_("once public"), null=True, blank=True)  # as Incident's

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["station", "category", "received_at"]),
            models.Index(
                fields=["updated_at"],
                condition=models.Q(aggregated_at__isnull=True),
                name="report_pending_aggregation",
            ),
        ]
        constraints = [
            moment_constraint("report", "occurred_at", null=True),
            moment_constraint("report", "received_at"),
            models.CheckConstraint(
                condition=models.Q(count__lte=REPORT_COUNT_MAX), name="report_count_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} @ {self.station} ({self.uuid})"


class Evidence(models.Model):
    """A photo or video. The original is untouched and private; the public copy has no EXIF."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        VIDEO = "video", _("video")
        DOCUMENT = "document", _("document")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="evidence")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256 of the original"), max_length=64, db_index=True)
    original_path = models.CharField(max_length=300)
    public_path = models.CharField(max_length=300, blank=True)
    original_name = models.CharField(_("file name as sent"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["received_at"]
        constraints = [
            # Retries of one report sent at once must not store one file twice.
            models.UniqueConstraint(fields=["report", "sha256"], name="evidence_once_per_report")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"


class AuditEntry(models.Model):
    """Append-only record of who changed what. Rows are never updated or deleted."""

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("who"),
    )
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"]),
            # The panel's filter by action, newest first (bench/moderation_pages.py).
            models.Index(fields=["action", "at"], name="audit_action_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit entries are append-only")


class Question(models.Model):
    """A moderator's question about a report, answered by its observer in "My reports"."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="questions_asked"
    )
    text = models.TextField(_("question"), max_length=2000)
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    answer = models.TextField(_("answer"), max_length=5000, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("question to the observer")
        verbose_name_plural = _("questions to observers")
        ordering = ["asked_at"]

    def __str__(self) -> str:
        return self.text[:60]
