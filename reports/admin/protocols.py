"""Moderators' lists of counts and protocols: copies, reconciliations (copies that disagree
with each other or with the official result), official results, imports, statistics runs and
station flags. Rows are written by the services and workers; these lists only read, and their
actions call services.
"""

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports.domain.protocol_checks import election_template
from reports.models import (
    OfficialResult,
    ProtocolCopy,
    ResultsImport,
    ResultTotal,
    StationFlag,
    StationReconciliation,
    StatisticsRun,
    TurnoutCount,
)
from reports.selectors import in_scope
from reports.services.protocols import (
    STATISTICS_RUN_STALE,
    station_reconcile,
    statistics_run_request,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False
    # Lookup from a row to its okrug; an okrug-limited moderator sees only those rows.
    okrug_path: str | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if self.okrug_path is None:
            return queryset
        return in_scope(queryset, request.user, self.okrug_path)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def lines_table(template_owner, lines: dict, extra: dict | None = None):
    """Protocol lines as "number. label: value" rows, in the template's order."""
    template = election_template(template_owner)
    rows = [
        (template.number(key), template.label(key), lines[key], (extra or {}).get(key, ""))
        for key in template.keys
        if key in lines
    ]
    return format_html(
        "<table>{}</table>",
        format_html_join("", "<tr><td>{}.</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


class FailedFilter(admin.SimpleListFilter):
    title = _("control relations")
    parameter_name = "control"

    def lookups(self, request, model_admin):
        return [("failed", _("fail")), ("hold", _("hold"))]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "failed":
            return queryset.exclude(control_failures=[])
        if self.value() == "hold":
            return queryset.filter(control_failures=[])
        return queryset


class DisagreementFilter(admin.SimpleListFilter):
    """The useful view first: stations whose copies disagree or differ from official."""

    title = _("to look at")
    parameter_name = "look"

    def lookups(self, request, model_admin):
        return [
            ("problems", _("disagreeing or differing")),
            ("all", _("all stations")),
            ("copies", _("copies disagree")),
            ("official", _("differs from official")),
        ]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "problems") == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        if self.value() == "all":
            return queryset
        if self.value() == "copies":
            return queryset.filter(has_disagreement=True)
        if self.value() == "official":
            return queryset.filter(differs_from_official=True)
        return queryset.filter(Q(has_disagreement=True) | Q(differs_from_official=True))


@admin.register(TurnoutCount)
class TurnoutCountAdmin(ReadOnlyAdmin):
    okrug_path = "station__okrug"
    list_display = ["station", "checkpoint", "own_tally", "announced", "observer", "received_at"]
    list_filter = ["checkpoint", "election"]
    list_select_related = ["station", "observer"]
    search_fields = ["station__number"]
    exclude = ["content_hash"]


@admin.register(ProtocolCopy)
class ProtocolCopyAdmin(ReadOnlyAdmin):
    okrug_path = "station__okrug"
    list_display = ["station", "observer", "received_at", "failed", "photo_link"]
    list_filter = [FailedFilter, "election"]
    list_select_related = ["station", "observer"]
    search_fields = ["station__number"]
    fields = ["station", "observer", "channel", "received_at", "lines_view", "photo_link"]
    readonly_fields = fields

    @admin.display(description=_("control relations fail"), boolean=True)
    def failed(self, copy: ProtocolCopy) -> bool:
        return bool(copy.control_failures)

    @admin.display(description=_("photo"))
    def photo_link(self, copy: ProtocolCopy) -> str:
        if not copy.photo_path:
            return "—"
        url = reverse("protocols:copy_photo", args=[copy.uuid])
        original = reverse("protocols:copy_original", args=[copy.uuid])
        return format_html(
            '<a href="{}">{}</a> (<a href="{}" title="{}">{}</a>)',
            url,
            copy.photo_sha256[:12],
            original,
            _("Each download is logged"),
            _("original"),
        )

    @admin.display(description=_("protocol lines"))
    def lines_view(self, copy: ProtocolCopy) -> str:
        return lines_table(copy.station.election, copy.lines)


@admin.register(StationReconciliation)
class StationReconciliationAdmin(ReadOnlyAdmin):
    okrug_path = "station__okrug"
    list_display = ["station", "copies", "has_disagreement", "differs_from_official", "updated_at"]
    list_filter = [DisagreementFilter, "election"]
    list_select_related = ["station"]
    search_fields = ["station__number"]
    fields = ["station", "copies", "updated_at", "lines_view", "disagreements_view"]
    readonly_fields = fields
    actions = ["reconcile_again"]

    def has_reconcile_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reports.view_stationreconciliation")

    @admin.display(description=_("consensus, and official where it differs"))
    def lines_view(self, item: StationReconciliation) -> str:
        official = {
            key: _("official %(value)s") % {"value": values[1]}
            for key, values in item.official_differences.items()
        }
        return lines_table(item.station.election, item.lines, official)

    @admin.display(description=_("disagreements between copies"))
    def disagreements_view(self, item: StationReconciliation) -> str:
        seen = {key: " / ".join(map(str, values)) for key, values in item.disagreements.items()}
        return lines_table(item.station.election, seen) if seen else "—"

    @admin.action(description=_("Reconcile again"), permissions=["reconcile"])
    def reconcile_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for item in queryset.select_related("station__election"):
            station_reconcile(station=item.station)
            count += 1
        message = ngettext("%(count)d station reconciled.", "%(count)d stations reconciled.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(OfficialResult)
class OfficialResultAdmin(ReadOnlyAdmin):
    okrug_path = "station__okrug"
    list_display = ["uik", "region", "tik", "station", "failed"]
    list_filter = [FailedFilter, "election"]
    search_fields = ["=uik", "tik"]
    list_select_related = ["station"]
    fields = ["election", "region", "tik", "uik", "station", "url", "lines_view"]
    readonly_fields = fields

    @admin.display(description=_("control relations fail"), boolean=True)
    def failed(self, result: OfficialResult) -> bool:
        return bool(result.control_failures)

    @admin.display(description=_("protocol lines"))
    def lines_view(self, result: OfficialResult) -> str:
        return lines_table(result.election, result.lines)


@admin.register(ResultsImport)
class ResultsImportAdmin(ReadOnlyAdmin):
    list_display = [
        "source", "election", "started_at", "outcome", "rows_read", "rows_imported", "issue_count",
    ]  # fmt: skip
    list_filter = ["outcome"]
    fields = [
        "source", "election", "started_at", "finished_at", "outcome", "error", "rows_read",
        "rows_imported", "control_failed", "issue_count", "issues_view",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("problems found"))
    def issues_view(self, run: ResultsImport) -> str:
        rows = [
            (issue["row"], issue["column"], issue["message"],
             _("refused") if issue["refused"] else _("kept"))
            for issue in run.issues
        ]  # fmt: skip
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )


@admin.register(ResultTotal)
class ResultTotalAdmin(ReadOnlyAdmin):
    list_display = ["name", "level", "source", "stations", "computed_at"]
    list_filter = ["level", "source", "election"]
    search_fields = ["name"]


@admin.register(StatisticsRun)
class StatisticsRunAdmin(ReadOnlyAdmin):
    list_display = ["election", "source", "status", "requested_at", "running_for", "finished_at",
                    "page"]  # fmt: skip
    list_filter = ["status", "election"]
    exclude = ["result"]
    readonly_fields = ["election", "source", "status", "requested_at", "started_at",
                       "running_for", "finished_at", "error", "page"]  # fmt: skip
    actions = ["compute_again"]

    @admin.display(description=_("running for"))
    def running_for(self, run: StatisticsRun) -> str:
        """How long a run has been waiting or running; a stuck one says so."""
        if run.status not in (StatisticsRun.Status.PENDING, StatisticsRun.Status.RUNNING):
            return "—"
        since = run.started_at or run.requested_at
        age = timesince(since, timezone.now())
        if since < timezone.now() - STATISTICS_RUN_STALE:
            return format_html(
                "<strong>{}</strong>", _("%(age)s — stuck, will be computed again") % {"age": age}
            )
        return age

    @admin.display(description=_("statistics"))
    def page(self, run: StatisticsRun) -> str:
        url = f"{reverse('protocols:statistics')}?election={run.election_id}"
        return format_html('<a href="{}">{}</a>', url, _("open"))

    @admin.action(description=_("Compute the statistics again"), permissions=["compute"])
    def compute_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        elections = {run.election for run in queryset.select_related("election")}
        for election in elections:
            statistics_run_request(election=election, actor=request.user)
        count = len(elections)
        message = ngettext(
            "Statistics of %(count)d election requested.",
            "Statistics of %(count)d elections requested.",
            count,
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    def has_compute_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reports.add_statisticsrun")


@admin.register(StationFlag)
class StationFlagAdmin(ReadOnlyAdmin):
    list_display = ["uik", "region", "tik", "kind", "value", "station"]
    list_filter = ["kind", "run"]
    search_fields = ["=uik", "tik"]
    list_select_related = ["station"]
