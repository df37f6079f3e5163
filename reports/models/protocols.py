"""Counts and protocols: observers' turnout counts and protocol copies, official results,
their reconciliation, stored totals and statistics runs (DOMAIN.md §6–7).

Protocol lines are stored as JSON keyed by the line keys of the election's protocol template
(`reports/domain/protocol_checks.py`), so every election form fits the same tables.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.domain.times import moment_constraint
from reports.models.core import Channel, Election, Observer, Station

# No station has this many voters: a larger count or protocol line is a typo or an attack.
VOTERS_MAX = 1_000_000


class Checkpoint(models.TextChoices):
    H10 = "10", "10:00"
    H12 = "12", "12:00"
    H15 = "15", "15:00"
    H18 = "18", "18:00"


class TurnoutCount(models.Model):
    """An observer's turnout count at a checkpoint: their own tally and the announced figure."""

    uuid = models.UUIDField(_("client UUID"), unique=True, default=uuid.uuid4)
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="turnout_counts")
    observer = models.ForeignKey(Observer, on_delete=models.PROTECT, related_name="turnout_counts")
    checkpoint = models.CharField(_("checkpoint"), max_length=2, choices=Checkpoint.choices)
    own_tally = models.PositiveIntegerField(_("own tally"), null=True, blank=True)
    announced = models.PositiveIntegerField(_("announced by the station"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    content_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("turnout count")
        verbose_name_plural = _("turnout counts")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["station", "checkpoint", "received_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(own_tally__lte=VOTERS_MAX) & models.Q(announced__lte=VOTERS_MAX),
                name="turnoutcount_counts_bounded",
            ),
            moment_constraint("turnoutcount", "received_at"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {self.get_checkpoint_display()}"


class ProtocolCopy(models.Model):
    """An observer's copy of the final protocol, line by line, with a photo of the copy.

    The photo is kept untouched in private storage with its SHA-256; it is evidence.
    """

    uuid = models.UUIDField(_("client UUID"), unique=True, default=uuid.uuid4)
    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="protocol_copies")
    observer = models.ForeignKey(
        Observer, on_delete=models.PROTECT, null=True, blank=True, related_name="protocol_copies"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    lines = models.JSONField(_("protocol lines"))
    control_failures = models.JSONField(_("failed control relations"), default=list, blank=True)
    soft_warnings = models.JSONField(_("soft check warnings"), default=list, blank=True)
    photo_sha256 = models.CharField(_("SHA-256 of the photo"), max_length=64, blank=True)
    photo_path = models.CharField(max_length=300, blank=True)
    photo_content_type = models.CharField(max_length=100, blank=True)
    photo_size = models.PositiveBigIntegerField(null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    content_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("protocol copy")
        verbose_name_plural = _("protocol copies")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["station", "received_at"])]
        constraints = [moment_constraint("protocolcopy", "received_at")]

    def __str__(self) -> str:
        return _("Protocol copy, %(station)s") % {"station": self.station}


class OfficialResult(models.Model):
    """One station's official protocol as published, keyed as the CEC keys it.

    National station numbers are unique only within a region; `station` is set when the row
    matches the election's own station list.
    """

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    region = models.CharField(_("region"), max_length=200)
    # The region as compared (case, spacing and ё/е aside): one row per station however a
    # file spells its region.
    region_key = models.CharField(max_length=200, editable=False)
    tik = models.CharField(_("territorial commission"), max_length=200)
    uik = models.PositiveIntegerField(_("station number"))
    station = models.ForeignKey(
        Station, on_delete=models.SET_NULL, null=True, blank=True, related_name="official_results"
    )
    lines = models.JSONField(_("protocol lines"))
    control_failures = models.JSONField(_("failed control relations"), default=list, blank=True)
    soft_warnings = models.JSONField(_("soft check warnings"), default=list, blank=True)
    url = models.CharField(_("source page"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("official result")
        verbose_name_plural = _("official results")
        ordering = ["region", "uik"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "region_key", "uik"], name="official_result_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region}, {self.uik}"


class ResultsImport(models.Model):
    """One run of `import_results`: what was read, kept, and which rows were refused."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("running")
        IMPORTED = "imported", _("imported")
        PARTIAL = "partial", _("good rows imported, bad rows refused")
        REFUSED = "refused", _("refused: nothing imported")
        FAILED = "failed", _("failed: nothing imported")

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("file"), max_length=300)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    rows_imported = models.PositiveIntegerField(_("rows imported"), default=0)
    issue_count = models.PositiveIntegerField(_("problems"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.RUNNING
    )
    error = models.TextField(_("error"), blank=True)
    control_failed = models.PositiveIntegerField(
        _("rows kept with failed control relations"), default=0
    )
    # The first problems, by row and column; the full list is printed by the command.
    issues = models.JSONField(_("problems found"), default=list, blank=True)

    class Meta:
        verbose_name = _("results import")
        verbose_name_plural = _("results imports")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.source


class StationReconciliation(models.Model):
    """All copies of one station compared field by field, and the consensus against official.

    `lines` holds the consensus; `disagreements` the lines where copies differ, with every
    value seen; `official_differences` the lines where the consensus differs from the official
    figure by more than the tolerance.
    """

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    station = models.OneToOneField(Station, on_delete=models.CASCADE, related_name="reconciliation")
    copies = models.PositiveIntegerField(_("copies"), default=0)
    lines = models.JSONField(_("consensus lines"), default=dict)
    disagreements = models.JSONField(_("disagreements between copies"), default=dict)
    has_disagreement = models.BooleanField(_("copies disagree"), default=False, db_index=True)
    official_differences = models.JSONField(_("differences from official"), default=dict)
    differs_from_official = models.BooleanField(
        _("differs from official"), default=False, db_index=True
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("station reconciliation")
        verbose_name_plural = _("station reconciliations")
        ordering = ["station__number"]

    def __str__(self) -> str:
        return str(self.station)


class ResultSource(models.TextChoices):
    OFFICIAL = "official", _("official results")
    OBSERVERS = "observers", _("observers' copies")
    # Official results of only the stations that have an observers' copy: the fair comparison.
    OFFICIAL_MATCHED = "official_matched", _("official, stations with a copy")


class ResultLevel(models.TextChoices):
    ELECTION = "election", _("election")
    REGION = "region", _("region")
    OKRUG = "okrug", _("okrug")
    TIK = "tik", _("territorial commission")


class ResultTotal(models.Model):
    """Line totals for one area from one source, written by the aggregation task."""

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("source"), max_length=16, choices=ResultSource.choices)
    level = models.CharField(_("level"), max_length=16, choices=ResultLevel.choices)
    name = models.CharField(_("name"), max_length=200)
    stations = models.PositiveIntegerField(_("stations"))
    lines = models.JSONField(_("line totals"))
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("result total")
        verbose_name_plural = _("result totals")
        ordering = ["level", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["election", "source", "level", "name"], name="result_total_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.source})"


class StatisticsRun(models.Model):
    """The statistics of one election, computed by a worker; the result is plain JSON."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    election = models.ForeignKey(Election, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(
        _("source"), max_length=16, choices=ResultSource.choices, default=ResultSource.OFFICIAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("statistics run")
        verbose_name_plural = _("statistics runs")
        ordering = ["-requested_at"]
        get_latest_by = "requested_at"

    def __str__(self) -> str:
        return f"{self.election} {self.requested_at:%Y-%m-%d %H:%M}"


class StationFlag(models.Model):
    """A statistical sign at one station (DOMAIN.md §7), written by a statistics run."""

    class Kind(models.TextChoices):
        HOME_VOTING = "home_voting", _("home-voting share far above the norm")
        TURNOUT_Z = "turnout_z", _("turnout far from the TIK's median")
        LEADER_Z = "leader_z", _("leader's share far from the TIK's median")
        FULL_TURNOUT = "full_turnout", _("100 % turnout outside temporary stations")
        CONTROL = "control", _("control relations fail")
        COPY_DIFFERS = "copy_differs", _("observer's copy differs from official")

    run = models.ForeignKey(StatisticsRun, on_delete=models.CASCADE, related_name="flags")
    region = models.CharField(_("region"), max_length=200)
    tik = models.CharField(_("territorial commission"), max_length=200)
    uik = models.PositiveIntegerField(_("station number"))
    station = models.ForeignKey(Station, on_delete=models.CASCADE, null=True, blank=True)
    kind = models.CharField(_("sign"), max_length=16, choices=Kind.choices)
    value = models.FloatField(_("value"), null=True, blank=True)

    class Meta:
        verbose_name = _("station flag")
        verbose_name_plural = _("station flags")
        ordering = ["region", "uik"]
        indexes = [models.Index(fields=["run", "kind"])]

    def __str__(self) -> str:
        return f"{self.uik}: {self.get_kind_display()}"
