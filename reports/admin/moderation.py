"""The moderation panel: the Django admin made into the headquarters' tool.

Lists of incidents, reports and evidence are read-only and limited to the staff member's
okrugs; every change is a decision made through `reports.services.incidents` (buttons on the
incident page, actions on the lists). Big tables never run a full COUNT (CappedPaginator,
`show_full_result_count = False`, no facets) and load related rows with joins, not per row.
Building blocks are in `admin.base`, reference lists (places, observers, staff) in
`admin.people`, the incident page's decisions in `admin.decisions`, the dashboard in
`admin.dashboard`.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports import models
from reports.admin import dashboard, decisions
from reports.admin.base import (
    ContactMixin,
    PanelAdmin,
    RecordExportMixin,
    audit_export,
    reporter_label,
    station_label,
)
from reports.admin.filters import (
    AggregationFilter,
    AnswerWaitingFilter,
    AuditActionFilter,
    AuditObjectTypeFilter,
    AuditRecentFilter,
    IncidentChannelFilter,
    IncidentTrustFilter,
    OkrugFilter,
    PhaseFilter,
    QueueFilter,
    ReceivedFilter,
    RecentFilter,
    StationNumberFilter,
    TikFilter,
)
from reports.domain import records
from reports.selectors import (
    answer_waiting,
    audit_entries_for,
    claim_holder,
    evidence_for,
    incidents_for,
    reports_for,
    severity_rank,
)
from reports.services.aggregation import reports_quarantine_release
from reports.services.incidents import (
    DecisionRefused,
    incident_claim,
    incident_escalate,
    incident_merge,
    incident_reject,
    incident_release,
    incident_verify,
)

admin.site.site_header = _("Observer reports: headquarters")
admin.site.site_title = _("Headquarters")
admin.site.index_title = _("Moderation panel")


class ReportInline(ContactMixin, admin.TabularInline):
    model = models.Report
    fk_name = "incident"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = [
        "received_at", "category", "reporter", "contact", "channel", "description", "count",
        "help_asked", "status", "evidence_files",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("category", "observer__contact")
            .prefetch_related("evidence")
            .order_by("received_at")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("reporter"))
    def reporter(self, report: models.Report) -> str:
        return reporter_label(report)

    @admin.display(description=_("help asked"))
    def help_asked(self, report: models.Report) -> str:
        asked = [
            label
            for flag, label in (
                (report.needs_mobile_group, _("mobile group")),
                (report.needs_lawyer, _("lawyer")),
                (report.police_called, _("police called")),
                (report.complaint_filed, _("complaint filed")),
            )
            if flag
        ]
        return ", ".join(str(label) for label in asked) or "—"

    @admin.display(description=_("evidence"))
    def evidence_files(self, report: models.Report) -> str:
        return format_html_join(
            " ",
            '<a href="{}">{}&nbsp;{}…</a>',
            (
                (
                    reverse("admin:reports_evidence_change", args=[item.pk]),
                    item.get_kind_display(),
                    item.sha256[:12],
                )
                for item in report.evidence.all()
            ),
        )


class NoteInline(admin.TabularInline):
    model = models.IncidentNote
    extra = 0
    can_delete = False
    fields = readonly_fields = ["created_at", "author", "text"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class EscalationInline(NoteInline):
    model = models.Escalation
    fields = readonly_fields = ["created_at", "kind", "created_by", "note"]

    def get_queryset(self, request):
        return super(NoteInline, self).get_queryset(request).select_related("created_by")


@admin.register(models.Incident)
class IncidentAdmin(RecordExportMixin, PanelAdmin):
    export_record = records.IncidentRecord
    export_name = "incidents"

    def scope(self, user) -> QuerySet:
        return incidents_for(user)

    list_display = [
        "number", "station_number", "okrug", "category_code", "severity", "status",
        "report_count", "reporter_count", "confidence_percent", "last_at", "holder",
        "answer_mark",
    ]  # fmt: skip
    list_display_links = ["number"]
    list_filter = [
        QueueFilter, OkrugFilter, TikFilter, StationNumberFilter, "category", PhaseFilter,
        "severity", "status", IncidentChannelFilter, IncidentTrustFilter, RecentFilter,
        AnswerWaitingFilter,
    ]  # fmt: skip
    list_select_related = ["station__okrug", "category", "claimed_by"]
    search_fields = ["station__number"]
    search_help_text = _("A station number, or words from the reports' descriptions.")
    sortable_by = ["number", "severity", "report_count", "reporter_count", "last_at"]
    fields = [
        "place", "category", "status", "severity", "confidence", "report_count",
        "reporter_count", "first_at", "last_at", "needs_mobile_group", "needs_lawyer",
        "pinned_by_moderator", "holder",
    ]  # fmt: skip
    readonly_fields = ["place", "holder"]
    inlines = [ReportInline, EscalationInline, NoteInline]
    change_form_template = "admin/reports/incident/change_form.html"
    actions = [
        "claim_selected", "release_selected", "verify_selected", "reject_selected",
        "escalate_mobile_group", "escalate_lawyer", "merge_selected", "export_audit",
        "export_records_csv", "export_records_json",
    ]  # fmt: skip

    def get_ordering(self, request):
        return [severity_rank(), "-last_at"]

    def search_text(self, queryset, term):
        reports = models.Report.objects.filter(incident=OuterRef("pk"), description__icontains=term)
        return queryset.filter(Exists(reports))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("dashboard/", view(dashboard.dashboard), name="reports_dashboard"),
            path(
                "dashboard.json",
                view(dashboard.dashboard_data),
                name="reports_dashboard_data",
            ),
            path(
                "<int:object_id>/decide/<slug:name>/",
                view(decisions.decide),
                name="reports_incident_decide",
            ),
            path(
                "<int:object_id>/complaint/",
                view(decisions.complaint),
                name="reports_incident_complaint",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = (extra_context or {}) | decisions.panel_context(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def has_escalate_permission(self, request) -> bool:
        return request.user.has_perm("reports.add_escalation")

    def has_audit_permission(self, request) -> bool:
        return request.user.has_perm("reports.view_auditentry")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(has_answer_waiting=answer_waiting())

    @admin.display(description=_("answer"))
    def answer_mark(self, incident: models.Incident) -> str:
        if not incident.has_answer_waiting:
            return ""
        return format_html('<span class="answer-waiting">{}</span>', _("answer waiting"))

    @admin.display(description=_("incident"), ordering="pk")
    def number(self, incident: models.Incident) -> str:
        return f"#{incident.pk}"

    @admin.display(description=_("category"))
    def category_code(self, incident: models.Incident) -> str:
        return format_html(
            '<span class="category-name" title="{}"><b>{}</b> {}</span>',
            incident.category.name,
            incident.category_id,
            incident.category.name,
        )

    @admin.display(description=_("confidence"), ordering="confidence")
    def confidence_percent(self, incident: models.Incident) -> str:
        return f"{incident.confidence:.0%}"

    @admin.display(description=_("claimed by"))
    def holder(self, incident: models.Incident) -> str:
        holder = claim_holder(incident)
        if holder is None:
            return "—"
        until = timezone.localtime(incident.claimed_until).strftime("%H:%M")
        return _("%(holder)s until %(until)s") % {
            "holder": holder.get_full_name() or holder.get_username(),
            "until": until,
        }

    @admin.display(description=_("polling station"))
    def place(self, incident: models.Incident) -> str:
        station = incident.station
        return f"{station} · {station.tik} · {station.okrug}"

    def run_bulk(self, request, queryset, decide: Callable, done: Callable[[int], str]) -> None:
        """Apply one decision per incident; report how many were made and why others were not."""
        made, refused = 0, []
        for incident in queryset.order_by("pk"):
            try:
                decide(incident)
            except DecisionRefused as refusal:
                refused.append(refusal.message)
            else:
                made += 1
        if made:
            self.message_user(request, done(made), messages.SUCCESS)
        if refused:
            self.message_user(
                request, _("Not changed: %(reasons)s") % {"reasons": " ".join(refused)},
                messages.WARNING,
            )  # fmt: skip

    @admin.action(permissions=["change"], description=_("Claim selected incidents"))
    def claim_selected(self, request, queryset):
        self.run_bulk(
            request, queryset,
            lambda incident: incident_claim(incident=incident, actor=request.user),
            lambda made: ngettext("%d incident claimed.", "%d incidents claimed.", made) % made,
        )  # fmt: skip

    @admin.action(permissions=["change"], description=_("Release my claims on selected"))
    def release_selected(self, request, queryset):
        released = sum(
            incident_release(incident=incident, actor=request.user) for incident in queryset
        )
        self.message_user(
            request,
            ngettext("%d claim released.", "%d claims released.", released) % released,
            messages.SUCCESS,
        )

    @admin.action(permissions=["change"], description=_("Verify selected incidents"))
    def verify_selected(self, request, queryset):
        self.run_bulk(
            request, queryset,
            lambda incident: incident_verify(incident=incident, actor=request.user),
            lambda made: ngettext("%d incident verified.", "%d incidents verified.", made) % made,
        )  # fmt: skip

    @admin.action(permissions=["change"], description=_("Reject selected incidents…"))
    def reject_selected(self, request, queryset):
        form = decisions.RejectForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/reports/incident/reject_selected.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Reject incidents"),
                    "opts": self.model._meta,
                    "form": form,
                    "incidents": queryset,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        reason = form.cleaned_data["reason"]
        self.run_bulk(
            request, queryset,
            lambda incident: incident_reject(incident=incident, actor=request.user, reason=reason),
            lambda made: ngettext("%d incident rejected.", "%d incidents rejected.", made) % made,
        )  # fmt: skip
        return None

    def escalate(self, request, queryset, kind: str) -> None:
        self.run_bulk(
            request, queryset,
            lambda incident: incident_escalate(incident=incident, actor=request.user, kind=kind),
            lambda made: ngettext("%d incident escalated.", "%d incidents escalated.", made)
            % made,
        )  # fmt: skip

    @admin.action(permissions=["escalate"], description=_("Send a mobile group to selected"))
    def escalate_mobile_group(self, request, queryset):
        self.escalate(request, queryset, models.Escalation.Kind.MOBILE_GROUP)

    @admin.action(permissions=["escalate"], description=_("Pass selected to a lawyer"))
    def escalate_lawyer(self, request, queryset):
        self.escalate(request, queryset, models.Escalation.Kind.LAWYER)

    @admin.action(permissions=["change"], description=_("Merge selected into the earliest"))
    def merge_selected(self, request, queryset):
        incidents = list(queryset.order_by("first_at", "pk"))
        if len(incidents) < 2:
            self.message_user(request, _("Choose at least two incidents to merge."), messages.ERROR)
            return
        try:
            target = incident_merge(target=incidents[0], others=incidents[1:], actor=request.user)
        except DecisionRefused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return
        self.message_user(
            request,
            _("Merged %(count)d incidents into #%(id)d.")
            % {"count": len(incidents), "id": target.pk},
            messages.SUCCESS,
        )

    @admin.action(permissions=["audit"], description=_("Export the audit log of selected (CSV)"))
    def export_audit(self, request, queryset):
        keys = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        entries = models.AuditEntry.objects.filter(object_type="incident", object_id__in=keys)
        return audit_export(entries, "csv")


@admin.register(models.Report)
class ReportAdmin(RecordExportMixin, ContactMixin, PanelAdmin):
    export_record = records.FullReportRecord
    export_name = "reports"
    actions = ["export_records_csv", "export_records_json", "aggregate_again"]

    def scope(self, user) -> QuerySet:
        return reports_for(user)

    list_display = [
        "received_at", "station_number", "okrug", "category_id", "reporter", "channel",
        "status", "incident_link", "quarantine",
    ]  # fmt: skip
    list_filter = [
        OkrugFilter, TikFilter, StationNumberFilter, "category", PhaseFilter, "status",
        "channel", "trust", ReceivedFilter, AggregationFilter,
    ]  # fmt: skip
    list_select_related = ["station__okrug", "observer"]
    search_fields = ["station__number"]
    search_help_text = _("A station number, or words from the description.")
    ordering = ["-received_at"]
    sortable_by = ["received_at"]
    fields = [
        "uuid", "station", "category", "reporter", "contact", "channel", "occurred_at",
        "received_at", "description", "count", "complaint_filed", "police_called",
        "violation_stopped", "needs_mobile_group", "needs_lawyer", "status", "incident",
        "quarantined_at", "aggregation_error",
    ]  # fmt: skip
    readonly_fields = ["reporter", "contact", "quarantined_at", "aggregation_error"]

    def get_inlines(self, request, obj):
        return [EvidenceInline, QuestionInline]

    @admin.display(description=_("reporter"))
    def reporter(self, report: models.Report) -> str:
        return reporter_label(report)

    @admin.action(
        permissions=["change"], description=_("Aggregate selected quarantined reports again")
    )
    def aggregate_again(self, request, queryset):
        released = reports_quarantine_release(
            report_ids=queryset.values_list("pk", flat=True), actor=request.user
        )
        self.message_user(
            request,
            ngettext(
                "%d report sent to aggregation again.", "%d reports sent to aggregation again.",
                released,
            ) % released,
            messages.SUCCESS,
        )  # fmt: skip

    @admin.display(description=_("aggregation"))
    def quarantine(self, report: models.Report) -> str:
        """Empty unless aggregation failed on the report: then the error, shortened."""
        if report.quarantined_at is None:
            return ""
        return _("quarantined: %(error)s") % {"error": report.aggregation_error[:80]}

    @admin.display(description=_("incident"))
    def incident_link(self, report: models.Report) -> str:
        if report.incident_id is None:
            return "—"
        url = reverse("admin:reports_incident_change", args=[report.incident_id])
        return format_html('<a href="{}">#{}</a>', url, report.incident_id)


class EvidenceInline(admin.TabularInline):
    model = models.Evidence
    extra = 0
    can_delete = False
    show_change_link = True
    fields = readonly_fields = ["kind", "content_type", "size", "sha256", "received_at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class QuestionInline(EvidenceInline):
    model = models.Question
    show_change_link = False
    fields = readonly_fields = ["asked_at", "asked_by", "text", "answer", "answered_at"]


class EvidenceAccessInline(EvidenceInline):
    model = models.EvidenceAccess
    show_change_link = False
    fields = readonly_fields = ["at", "user", "sha256", "ip_address"]
    verbose_name_plural = _("chain of custody: downloads of the original")


@admin.register(models.Evidence)
class EvidenceAdmin(PanelAdmin):
    def scope(self, user) -> QuerySet:
        return evidence_for(user)

    list_display = [
        "received_at", "kind", "sha256", "size", "station_number", "report_link", "original",
    ]  # fmt: skip
    list_filter = ["kind", ReceivedFilter]
    list_select_related = ["report__station"]
    search_fields = ["sha256"]
    search_help_text = _("The SHA-256 of a file, or its beginning.")
    ordering = ["-received_at"]
    fields = [
        "report_link", "kind", "content_type", "size", "sha256", "original_name", "received_at",
        "original", "public_copy",
    ]  # fmt: skip
    readonly_fields = ["report_link", "original", "public_copy"]
    inlines = [EvidenceAccessInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lower()
        return (queryset.filter(sha256__startswith=term) if term else queryset), False

    def get_urls(self):
        return [
            path(
                "<int:object_id>/original/",
                self.admin_site.admin_view(decisions.evidence_original),
                name="reports_evidence_original",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("station"))
    def station_number(self, evidence: models.Evidence) -> str:
        return station_label(evidence.report.station)

    @admin.display(description=_("report"))
    def report_link(self, evidence: models.Evidence) -> str:
        url = reverse("admin:reports_report_change", args=[evidence.report_id])
        return format_html('<a href="{}">{}</a>', url, evidence.report_id)

    @admin.display(description=_("original"))
    def original(self, evidence: models.Evidence) -> str:
        url = reverse("admin:reports_evidence_original", args=[evidence.pk])
        return format_html(
            '<a href="{}" title="{}">{}</a>', url, _("Each download is logged"), _("download")
        )

    @admin.display(description=_("public copy (no EXIF)"))
    def public_copy(self, evidence: models.Evidence) -> str:
        if not evidence.public_path or evidence.kind != models.Evidence.Kind.PHOTO:
            return "—"
        return format_html(
            '<img src="{}{}" alt="" class="evidence-preview">',
            settings.MEDIA_URL,
            evidence.public_path,
        )


@admin.register(models.AuditEntry)
class AuditEntryAdmin(PanelAdmin):
    def scope(self, user) -> QuerySet:
        return audit_entries_for(user)

    list_display = ["at", "actor", "action", "object_type", "object_link", "note"]
    list_filter = [AuditActionFilter, AuditObjectTypeFilter, AuditRecentFilter]
    list_select_related = ["actor"]
    search_fields = ["object_id"]
    search_help_text = _("An object's number, e.g. an incident's.")
    ordering = ["-at"]
    fields = ["at", "actor", "action", "object_type", "object_id", "before", "after", "note"]
    actions = ["export_csv", "export_json"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        return (queryset.filter(object_id=term) if term else queryset), False

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        return lookup in ("object_type", "object_id") or super().lookup_allowed(
            lookup, value, request
        )

    @admin.display(description=_("object"))
    def object_link(self, entry: models.AuditEntry) -> str:
        if entry.object_type not in ("incident", "report", "evidence", "observer"):
            return f"{entry.object_type} #{entry.object_id}"
        url = reverse(f"admin:reports_{entry.object_type}_change", args=[entry.object_id])
        return format_html('<a href="{}">{} #{}</a>', url, entry.object_type, entry.object_id)

    @admin.action(permissions=["view"], description=_("Export selected entries (CSV)"))
    def export_csv(self, request, queryset):
        return audit_export(queryset, "csv")

    @admin.action(permissions=["view"], description=_("Export selected entries (JSON)"))
    def export_json(self, request, queryset):
        return audit_export(queryset, "json")
