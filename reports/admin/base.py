"""Building blocks of the moderation panel's lists: a paginator that never counts a whole
table, read-only admins limited to a staff member's okrugs, how reporters are shown, and the
audit log export (CSV or JSON, one record shape).
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from reports import models
from reports.domain import records
from reports.models import ExportFormat
from reports.selectors import in_scope


class CappedPaginator(Paginator):
    """Counts at most `cap` rows: beyond that the page says "more than" and stops paging.

    A full COUNT(*) of a million filtered rows costs more than the page itself; counting a
    LIMITed subquery stops early, and nobody pages through 40 pages of a queue anyway.
    """

    cap = 2_000

    @cached_property
    def count(self) -> int:
        # Unordered: the count needs no sort, and stops after `cap` rows.
        return self.object_list.order_by()[: self.cap].count()

    @property
    def capped(self) -> bool:
        return self.count >= self.cap


class RecordExportMixin:
    """ "Export selected" in the published record shape `export_record` (reports.domain.records),
    the very records the API and bulk exports give, so one JSON Schema describes them all."""

    export_record: type[records.Record]
    export_name: str

    def records_export(self, queryset: QuerySet, fmt: str) -> StreamingHttpResponse:
        filename = f"{self.export_name}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
        return records.records_response(self.export_record, queryset, fmt, filename=filename)

    @admin.action(permissions=["view"], description=_("Export selected (CSV)"))
    def export_records_csv(self, request, queryset):
        return self.records_export(queryset, ExportFormat.CSV)

    @admin.action(permissions=["view"], description=_("Export selected (JSON)"))
    def export_records_json(self, request, queryset):
        return self.records_export(queryset, ExportFormat.JSON)


class TitledChangeList:
    """A list page titled with what it lists ("Incidents"), not Django's "Select incident to
    change"."""

    def changelist_view(self, request, extra_context=None):
        title = {"title": capfirst(self.model._meta.verbose_name_plural)}
        return super().changelist_view(request, title | (extra_context or {}))


class PanelAdmin(TitledChangeList, admin.ModelAdmin):
    """A read-only list of a big table, limited to the staff member's okrugs by `scope`.

    Its rows have a `station` (incidents, reports), shown with the okrug.
    """

    class Media:
        css = {"all": ["reports/admin/panel.css"]}

    paginator = CappedPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    def scope(self, user) -> QuerySet:
        """The rows this staff member may see."""
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = self.scope(request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_search_results(self, request, queryset, search_term):
        """A number finds a station; other words are looked for in report descriptions."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(station__number=int(term)), False
        return self.search_text(queryset, term), False

    def search_text(self, queryset: QuerySet, term: str) -> QuerySet:
        return queryset.filter(description__icontains=term)

    @admin.display(description=_("station"), ordering="station__number")
    def station_number(self, row) -> str:
        return station_label(row.station)

    @admin.display(description=_("okrug"))
    def okrug(self, row) -> str:
        return row.station.okrug.name

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Rows are never edited in forms; decisions are buttons and actions.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def station_label(station: models.Station) -> str:
    return str(station.number)


def reporter_label(report: models.Report) -> str:
    """Pseudonym and role: all the panel shows of a reporter without the contacts permission.
    A report the site raised itself says so plainly."""
    if report.reporter_role == models.ReporterRole.SYSTEM:
        return str(_("raised by the site itself (automatic check)"))
    name = report.observer.pseudonym if report.observer_id else _("anonymous")
    return f"{name} ({report.get_reporter_role_display()}, {report.get_trust_display()})"


def contact_label(observer: models.Observer | None) -> str:
    contact = getattr(observer, "contact", None) if observer else None
    if contact is None:
        return "—"
    return " · ".join(
        part
        for part in (contact.full_name, contact.phone, contact.email, contact.messenger)
        if part
    )


class ContactMixin:
    """Shows the `contact` field only to holders of reports.view_observercontact."""

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if not request.user.has_perm("reports.view_observercontact"):
            fields = [field for field in fields if field != "contact"]
        return fields

    @admin.display(description=_("contact"))
    def contact(self, report: models.Report) -> str:
        return contact_label(report.observer)


def audit_export(entries: QuerySet, fmt: str) -> StreamingHttpResponse:
    """Stream audit entries as CSV or JSON, in the one shape of `records.AuditEntryRecord`."""
    filename = f"audit-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    return records.records_response(records.AuditEntryRecord, entries, fmt, filename=filename)


class ReadOnlyAdmin(TitledChangeList, admin.ModelAdmin):
    """Shown for reference; these rows are written by importers and services elsewhere."""

    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ScopedByOkrug(ReadOnlyAdmin):
    """Limited to the staff member's okrugs through `okrug_path`."""

    okrug_path = "okrug_id"

    def get_queryset(self, request):
        return in_scope(super().get_queryset(request), request.user, self.okrug_path)
