"""List filters of the moderation panel: queues, places, category, channel, trust, time.

Filters on reports of an incident use EXISTS subqueries rather than joins, so the list needs
no DISTINCT and pages stay cheap on big tables. Place filters offer only the okrugs (and
their TIKs) the staff member may see.
"""

from datetime import timedelta

from django.contrib import admin
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models import Channel, Phase, Report, Tik, Trust
from reports.selectors import Queue, answer_waiting, okrugs_for, queue_filter, staff_okrug_ids


class QueueFilter(admin.SimpleListFilter):
    """The moderators' queues; without a choice, the first (new, critical first, unclaimed)."""

    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            (Queue.CRITICAL, _("New, most critical first, unclaimed")),
            (Queue.UNCLAIMED, _("Open and unclaimed")),
            (Queue.HELP, _("Mobile group or lawyer needed")),
            (Queue.VERIFICATION, _("Awaiting verification")),
            (Queue.PROTOCOLS, _("Protocol copy differs from official figures")),
            (Queue.MINE, _("Claimed by me")),
            (Queue.ALL, _("All incidents")),
        ]

    def value(self):
        return super().value() or Queue.CRITICAL

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        return queryset.filter(queue_filter(self.value(), request.user))


class OkrugFilter(admin.SimpleListFilter):
    title = _("okrug")
    parameter_name = "okrug"

    def lookups(self, request, model_admin):
        return [(str(okrug.pk), okrug.name) for okrug in okrugs_for(request.user)]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(station__okrug_id=int(self.value()))
        return queryset


class TikFilter(admin.SimpleListFilter):
    """TIKs of the chosen okrug, or of the okrugs a limited staff member works on; shown once
    there is such a choice (127 TIKs of a whole city are too many links)."""

    title = _("territorial commission")
    parameter_name = "tik"

    def lookups(self, request, model_admin):
        okrug = request.GET.get(OkrugFilter.parameter_name, "")
        okrug_ids = staff_okrug_ids(request.user)
        if not okrug.isdigit() and okrug_ids is None and not self.value():
            return []
        tiks = Tik.objects.all()
        if okrug.isdigit():
            tiks = tiks.filter(okrug_id=int(okrug))
        if okrug_ids is not None:
            tiks = tiks.filter(okrug_id__in=okrug_ids)
        return [(str(tik.pk), tik.name) for tik in tiks]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(station__tik_id=int(self.value()))
        return queryset


class StationNumberFilter(admin.SimpleListFilter):
    """A box to type a station number into (3,611 stations are too many for links)."""

    title = _("station number")
    parameter_name = "station"
    template = "admin/reports/input_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # the filter shows itself only when it has lookups

    def choices(self, changelist):
        hidden = [
            (name, value)
            for name, value in changelist.params.items()
            if name != self.parameter_name
        ]
        yield {"hidden": hidden, "value": self.value() or ""}

    def queryset(self, request, queryset):
        if self.value() and self.value().strip().isdigit():
            return queryset.filter(station__number=int(self.value()))
        return queryset


class PhaseFilter(admin.SimpleListFilter):
    title = _("phase")
    parameter_name = "phase"

    def lookups(self, request, model_admin):
        return Phase.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(category__phase=self.value())
        return queryset


class IncidentChannelFilter(admin.SimpleListFilter):
    """Incidents with at least one report that came through the channel."""

    title = _("channel")
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return Channel.choices

    def queryset(self, request, queryset):
        if self.value():
            reports = Report.objects.filter(incident=OuterRef("pk"), channel=self.value())
            return queryset.filter(Exists(reports))
        return queryset


class IncidentTrustFilter(admin.SimpleListFilter):
    """Incidents with at least one report from a reporter of this trust or higher."""

    title = _("trust of the best reporter")
    parameter_name = "trust"

    def lookups(self, request, model_admin):
        return [(str(value), label) for value, label in Trust.choices]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            reports = Report.objects.filter(incident=OuterRef("pk"), trust__gte=int(self.value()))
            return queryset.filter(Exists(reports))
        return queryset


class RecentFilter(admin.SimpleListFilter):
    """Activity within the last minutes or hours; `field` names the time to look at."""

    title = _("time")
    parameter_name = "within"
    field = "last_at"
    SPANS = {
        "15m": (timedelta(minutes=15), _("last 15 minutes")),
        "1h": (timedelta(hours=1), _("last hour")),
        "3h": (timedelta(hours=3), _("last 3 hours")),
        "24h": (timedelta(hours=24), _("last 24 hours")),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (_span, label) in self.SPANS.items()]

    def queryset(self, request, queryset):
        if self.value() in self.SPANS:
            since = timezone.now() - self.SPANS[self.value()][0]
            return queryset.filter(**{f"{self.field}__gte": since})
        return queryset


class AggregationFilter(admin.SimpleListFilter):
    """Reports that aggregation failed on (quarantined) or that still wait for it."""

    title = _("aggregation")
    parameter_name = "aggregation"

    def lookups(self, request, model_admin):
        return [("quarantined", _("quarantined: failed")), ("pending", _("waiting"))]

    def queryset(self, request, queryset):
        if self.value() == "quarantined":
            return queryset.filter(quarantined_at__isnull=False)
        if self.value() == "pending":
            return queryset.filter(aggregated_at__isnull=True, quarantined_at__isnull=True)
        return queryset


class ReceivedFilter(RecentFilter):
    field = "received_at"


class AuditRecentFilter(RecentFilter):
    field = "at"


class IndexedValuesFilter(admin.SimpleListFilter):
    """The values of an indexed text column, read by skipping through its index (a loose index
    scan: one probe per distinct value) instead of Django's SELECT DISTINCT over the table,
    which reads every row of a big table on every page."""

    field = ""

    def lookups(self, request, model_admin):
        table = connection.ops.quote_name(model_admin.model._meta.db_table)
        column = connection.ops.quote_name(model_admin.model._meta.get_field(self.field).column)
        # Names come from the model, not from the request.
        skip = f"""
            WITH RECURSIVE found(value) AS (
                SELECT min({column}) FROM {table}
                UNION ALL
                SELECT (SELECT min({column}) FROM {table} WHERE {column} > found.value)
                FROM found WHERE found.value IS NOT NULL
            )
            SELECT value FROM found WHERE value IS NOT NULL"""  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(skip)
            return [(value, value) for (value,) in cursor.fetchall()]

    def queryset(self, request, queryset):
        # Only a value the list offers: anything else (a NUL byte, text PostgreSQL cannot
        # compare) finds nothing instead of reaching the database.
        if self.value() in dict(self.lookup_choices):
            return queryset.filter(**{self.field: self.value()})
        if self.value():
            return queryset.none()
        return queryset


class AuditActionFilter(IndexedValuesFilter):
    title = _("action")
    parameter_name = "action"
    field = "action"


class AuditObjectTypeFilter(IndexedValuesFilter):
    title = _("object type")
    parameter_name = "object_type"
    field = "object_type"


class AnswerWaitingFilter(admin.SimpleListFilter):
    """Incidents whose observer has answered a question that nobody has acted on since."""

    title = _("observer's answer")
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return [("waiting", _("Answer waiting"))]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(answer_waiting())
        return queryset
