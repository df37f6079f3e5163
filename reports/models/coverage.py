"""Coverage: who is where, which stations went silent, and where the mobile groups are.

- CoverageRules: the times of one election's silence rules, with DOMAIN.md's timeline as
  defaults (an election without a row uses the defaults).
- StationCoverage and CoverageTally: figures written only by the coverage worker
  (`reports.services.coverage.coverage_refresh`), read by the coordinators' page; nothing is
  counted per request.
- MobileGroup and Dispatch: help sent to incidents, written by `reports.services.coverage`
  and audited on the incident.

The silence alerts are `Alert` rows (reports.models.aggregates) with the rules below; for
them `Alert.count` holds the rule's figure named in the message (minutes, or the hour of
the checkpoint), not a number of reports.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from reports.models.core import Election, Incident, Okrug, Station, Tik
from reports.models.protocols import Checkpoint

SILENCE_ALERT_TEXTS = {
    "not_checked_in": _(
        "An observer of station %(station)s has not checked in %(count)s min after opening"
    ),
    "station_silent": _("No message from station %(station)s for %(count)s min during voting"),
    "checkpoint_missed": _(
        "No turnout count from station %(station)s for the %(count)s:00 checkpoint"
    ),
    "observer_removed": _("Observer removed from station %(station)s or denied entry"),
}


def default_checkpoints() -> list[str]:
    return list(Checkpoint.values)


def validate_checkpoints(value) -> None:
    if not isinstance(value, list) or not set(value) <= set(Checkpoint.values):
        raise ValidationError(
            _("Checkpoints must be a list chosen from %(allowed)s."),
            params={"allowed": ", ".join(Checkpoint.values)},
        )


class CoverageRules(models.Model):
    """When an election's observers are expected to check in and send counts."""

    election = models.OneToOneField(
        Election, on_delete=models.CASCADE, related_name="coverage_rules"
    )
    checkin_minutes = models.PositiveSmallIntegerField(
        _("check-in deadline, minutes after opening"), default=30
    )
    silence_minutes = models.PositiveSmallIntegerField(
        _("silence, minutes without a message during voting"), default=120
    )
    checkpoints = models.JSONField(
        _("turnout checkpoints"),
        default=default_checkpoints,
        validators=[validate_checkpoints],
        help_text=_('Hours of the turnout counts, e.g. ["10", "12", "15", "18"].'),
    )
    checkpoint_grace_minutes = models.PositiveSmallIntegerField(
        _("minutes allowed after a checkpoint"), default=30
    )
    alerts_enabled = models.BooleanField(_("raise silence alerts"), default=True)

    class Meta:
        verbose_name = _("coverage rules")
        verbose_name_plural = _("coverage rules")

    def __str__(self) -> str:
        return str(self.election)

    @classmethod
    def of(cls, election: Election) -> "CoverageRules":
        """The election's rules, or the defaults (unsaved) when none were set."""
        return cls.objects.filter(election=election).first() or cls(election=election)


class StationCoverage(models.Model):
    """One station's coverage as the worker last computed it."""

    class State(models.TextChoices):
        NOBODY = "nobody", pgettext_lazy("station state", "nobody assigned")
        ABSENT = "absent", pgettext_lazy("station state", "no observer")
        PRESENT = "present", pgettext_lazy("station state", "checked in")
        REMOVED = "removed", pgettext_lazy("station state", "observer removed")

    station = models.OneToOneField(
        Station, on_delete=models.CASCADE, primary_key=True, related_name="coverage"
    )
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    okrug = models.ForeignKey(Okrug, on_delete=models.CASCADE, related_name="+")
    tik = models.ForeignKey(Tik, on_delete=models.CASCADE, related_name="+")
    number = models.PositiveIntegerField(_("station number"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices)
    assigned = models.PositiveSmallIntegerField(_("observers assigned"), default=0)
    present = models.PositiveSmallIntegerField(_("observers checked in"), default=0)
    removed = models.PositiveSmallIntegerField(_("observers removed"), default=0)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    opening_reported = models.BooleanField(_("reported at opening"), default=False)
    checkpoints = models.JSONField(_("turnout counts sent"), default=list)
    protocol = models.BooleanField(_("protocol sent"), default=False)
    silent = models.BooleanField(_("silent"), default=False)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("station coverage")
        verbose_name_plural = _("station coverage")
        ordering = ["number"]
        indexes = [models.Index(fields=["election", "okrug", "state", "number"])]

    def __str__(self) -> str:
        return f"{self.number}: {self.state}"


class CoverageTally(models.Model):
    """Coverage figures of the whole election, an okrug or a TIK (numbers of stations)."""

    class Level(models.TextChoices):
        ELECTION = "election", _("election")
        OKRUG = "okrug", _("okrug")
        TIK = "tik", _("territorial commission")

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    # "" for the election, else the okrug's or the TIK's id: one row per area.
    key = models.CharField(_("key"), max_length=32, blank=True)
    okrug = models.ForeignKey(Okrug, on_delete=models.CASCADE, null=True, related_name="+")
    tik = models.ForeignKey(Tik, on_delete=models.CASCADE, null=True, related_name="+")
    stations = models.PositiveIntegerField(_("stations"), default=0)
    assigned = models.PositiveIntegerField(_("with an observer assigned"), default=0)
    present = models.PositiveIntegerField(_("with an observer checked in"), default=0)
    opening = models.PositiveIntegerField(_("reported at opening"), default=0)
    turnout = models.JSONField(_("sent the turnout count, by checkpoint"), default=dict)
    protocol = models.PositiveIntegerField(_("sent the protocol"), default=0)
    nobody = models.PositiveIntegerField(_("nobody assigned"), default=0)
    removed = models.PositiveIntegerField(_("observer removed"), default=0)
    silent = models.PositiveIntegerField(_("silent"), default=0)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("coverage tally")
        verbose_name_plural = _("coverage tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["election", "level", "key"], name="coveragetally_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.key}".strip()


class MobileGroup(models.Model):
    """A team with a car that headquarters sends to stations."""

    class Status(models.TextChoices):
        AVAILABLE = "available", _("available")
        DISPATCHED = "dispatched", _("on the way")
        ON_SITE = "on_site", _("on site")
        OFF_DUTY = "off_duty", _("off duty")

    okrug = models.ForeignKey(
        Okrug, on_delete=models.PROTECT, related_name="mobile_groups", verbose_name=_("okrug")
    )
    name = models.CharField(_("name"), max_length=100)
    members = models.TextField(
        _("members"), max_length=2000, blank=True, help_text=_("Names and phones, one a line.")
    )
    car = models.CharField(_("car"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.AVAILABLE
    )
    # Where the group is (on site, or last seen) or is heading (on the way).
    station = models.ForeignKey(
        Station,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("station"),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("mobile group")
        verbose_name_plural = _("mobile groups")
        ordering = ["okrug__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["okrug", "name"], name="mobilegroup_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Dispatch(models.Model):
    """One trip of a mobile group to an incident. A group has at most one open trip."""

    class Status(models.TextChoices):
        DISPATCHED = "dispatched", _("dispatched")
        ON_SITE = "on_site", _("on site")
        DONE = "done", _("done")

    group = models.ForeignKey(
        MobileGroup, on_delete=models.PROTECT, related_name="dispatches", verbose_name=_("group")
    )
    # Kept when incidents are merged away; the station says where the group went.
    incident = models.ForeignKey(
        Incident,
        on_delete=models.SET_NULL,
        null=True,
        related_name="dispatches",
        verbose_name=_("incident"),
    )
    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DISPATCHED
    )
    notes = models.TextField(_("notes"), blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("dispatched by"),
    )
    dispatched_at = models.DateTimeField(_("dispatched"))
    on_site_at = models.DateTimeField(_("arrived"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("dispatch of a mobile group")
        verbose_name_plural = _("dispatches of mobile groups")
        ordering = ["-dispatched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["group"],
                condition=~models.Q(status="done"),
                name="dispatch_one_open_per_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.station}"
