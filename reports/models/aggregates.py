"""What the aggregation job keeps for moderators: tallies, report contributions, alerts.

Everything here is derived from reports and written only by `reports.services.aggregation`
and `reports.services.alerts`; `manage.py recount` rebuilds the tallies from scratch.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.domain.times import moment_constraint
from reports.models.core import Election, Incident, Okrug, Report, Station, Tik
from reports.models.coverage import SILENCE_ALERT_TEXTS


class Tally(models.Model):
    """How many reports fall under one key in one clock hour, kept up to date incrementally.

    Every report counts once in each dimension, in the hour it was received (UTC, truncated).
    Dimensions and their keys:

    - ``all``: ``""``, every report of the election;
    - ``station``, ``tik``, ``okrug``: the place's id (``Station.pk``, not its number), e.g.
      ``"412"``;
    - ``category``: the category code, e.g. ``"V1"``;
    - ``phase``: the category's phase (``Phase`` values), e.g. ``"voting"``;
    - ``severity``: the category's default severity, ``"C"``, ``"S"`` or ``"P"``;
    - ``status``: the report's review status (``ReviewStatus`` values), e.g. ``"verified"``;
    - ``okrug_category``: ``"<okrug id>:<category code>"``, e.g. ``"3:V1"``, for dashboards
      scoped to some okrugs.

    There is no row for "all hours": a key's total is ``Sum("count")`` over its hours (at most
    one row per hour, so a day is a few dozen rows). Rows may hold 0 after a report moved to
    another key; readers should treat a missing row and 0 alike. Rejected reports still count
    (under ``status="rejected"``); subtract that status when showing credible counts.
    """

    class Dimension(models.TextChoices):
        ALL = "all", _("all reports")
        STATION = "station", _("polling station")
        TIK = "tik", _("territorial commission")
        OKRUG = "okrug", _("okrug")
        CATEGORY = "category", _("category")
        PHASE = "phase", _("phase")
        SEVERITY = "severity", _("severity")
        STATUS = "status", _("status")
        OKRUG_CATEGORY = "okrug_category", _("okrug and category")

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="tallies")
    dimension = models.CharField(_("dimension"), max_length=16, choices=Dimension.choices)
    key = models.CharField(_("key"), max_length=32, blank=True)
    hour = models.DateTimeField(_("hour"))
    count = models.IntegerField(_("reports"), default=0)

    class Meta:
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")
        ordering = ["dimension", "key", "hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "dimension", "key", "hour"], name="tally_unique_key"
            ),
            moment_constraint("tally", "hour"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension}={self.key} @ {self.hour:%Y-%m-%d %H}:00: {self.count}"


class ReportContribution(models.Model):
    """What one report last added to the tallies, so a re-aggregation can take it back.

    Written in the same transaction as the tally update that used it. The keys are copied,
    not joined, so a later change of the report (or of its station's TIK) cannot change what
    is subtracted.
    """

    report = models.OneToOneField(
        Report, on_delete=models.CASCADE, primary_key=True, related_name="contribution"
    )
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    keys = models.JSONField()  # [[dimension, key], ...]
    hour = models.DateTimeField()

    class Meta:
        verbose_name = _("report contribution")
        verbose_name_plural = _("report contributions")

    def __str__(self) -> str:
        return f"report #{self.report_id} @ {self.hour:%Y-%m-%d %H}:00"


class Alert(models.Model):
    """Something coordinators must know now. Raised once per `key`, sent once per recipient."""

    class Rule(models.TextChoices):
        CRITICAL_BURST = "critical_burst", _("several critical reports at one station")
        TIK_SURGE = "tik_surge", _("reports in a TIK far above its norm")
        IMMEDIATE = "immediate", _("threats or violence")
        NOT_CHECKED_IN = "not_checked_in", _("observer not checked in after opening")
        STATION_SILENT = "station_silent", _("no message from a station for hours")
        CHECKPOINT_MISSED = "checkpoint_missed", _("turnout checkpoint missed")
        OBSERVER_REMOVED = "observer_removed", _("observer removed or denied entry")
        LIMITS_DEGRADED = "limits_degraded", _("rate limits degraded: the shared cache is down")
        REPORT_QUARANTINED = "report_quarantined", _("a report could not be aggregated")

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="alerts")
    rule = models.CharField(_("rule"), max_length=32, choices=Rule.choices)
    key = models.CharField(_("key"), max_length=200, unique=True)
    okrug = models.ForeignKey(
        Okrug, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("okrug")
    )
    tik = models.ForeignKey(
        Tik, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts"
    )
    incident = models.ForeignKey(
        Incident, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    count = models.PositiveIntegerField(_("reports"), default=0)
    # The receipt time of the report that set the rule off.
    at = models.DateTimeField(_("time"))
    raised_at = models.DateTimeField(_("raised"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["station", "rule", "at"])]

    def __str__(self) -> str:
        return self.message()

    def message(self) -> str:
        """One line for people: what happened where. Never names a reporter."""
        if self.rule == self.Rule.CRITICAL_BURST:
            text = _("%(count)s critical reports at station %(station)s within %(minutes)s min")
            minutes = settings.ALERT_CRITICAL_MINUTES
        elif self.rule == self.Rule.TIK_SURGE:
            text = _("%(count)s reports in an hour from TIK %(tik)s, far above its norm")
            minutes = 60
        elif self.rule == self.Rule.REPORT_QUARANTINED:
            text = _(
                "A report at station %(station)s could not be aggregated and waits in "
                "quarantine: see the reports in the admin"
            )
            minutes = 0
        elif self.rule in SILENCE_ALERT_TEXTS:
            text, minutes = SILENCE_ALERT_TEXTS[self.rule], 0
        elif self.rule == self.Rule.LIMITS_DEGRADED:
            text = _(
                "Redis does not answer: each web process limits anonymous reports and sign-in "
                "attempts on its own, so a flood meets weaker limits. Restore Redis."
            )
            minutes = 0
        else:
            text = _("Threats or violence reported at station %(station)s")
            minutes = 0
        return text % {
            "count": self.count,
            "station": self.station.number if self.station_id else "",
            "tik": self.tik.name if self.tik_id else "",
            "minutes": minutes,
        }


class AlertSubscription(models.Model):
    """Who gets alerts: a coordinator's email and/or webhook, for one okrug or for all.

    Staff users' okrug scopes (moderation) say what they may see; a subscription says what
    is pushed to them, and may also name an address that is not a user (a call centre).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_subscriptions",
        verbose_name=_("staff member"),
    )
    okrug = models.ForeignKey(
        Okrug,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_subscriptions",
        verbose_name=_("okrug"),
        help_text=_("Empty: alerts of every okrug."),
    )
    email = models.EmailField(_("email"), blank=True)
    webhook_url = models.URLField(_("webhook URL"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alert subscription")
        verbose_name_plural = _("alert subscriptions")

    def __str__(self) -> str:
        return self.email or self.webhook_url


class AlertDelivery(models.Model):
    """One alert to one subscription over one channel: claimed, then sent, exactly once."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("email")
        WEBHOOK = "webhook", _("webhook")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(
        AlertSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "subscription", "channel"], name="alertdelivery_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(sent_at__isnull=True),
                name="alertdelivery_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} → {self.subscription} ({self.channel})"
