"""Coordinators' admin for coverage: assignments by okrug and TIK, mobile groups, their trips
and each election's coverage rules. Lists are limited to the staff member's okrugs; every
change goes through `reports.services.coverage` and is audited.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports.admin.filters import OkrugFilter, StationNumberFilter, TikFilter
from reports.models import Assignment, CoverageRules, Dispatch, MobileGroup
from reports.selectors import okrug_in_scope, okrugs_for, staff_okrug_ids
from reports.services.coverage import (
    CoverageRefused,
    assignment_create,
    assignment_delete,
    assignment_set_status,
    coverage_rules_save,
)
from reports.services.mobile_groups import mobile_group_save, mobile_group_set_duty


class OkrugScoped:
    """Rows of the okrugs the staff member works on, found through `okrug_path`."""

    okrug_path = "okrug_id"

    def get_queryset(self, request) -> QuerySet:
        queryset = super().get_queryset(request)
        okrug_ids = staff_okrug_ids(request.user)
        if okrug_ids is None:
            return queryset
        return queryset.filter(**{f"{self.okrug_path}__in": okrug_ids})


class AssignmentForm(forms.ModelForm):
    user = None  # set by AssignmentAdmin.get_form

    class Meta:
        model = Assignment
        fields = ["observer", "station", "status"]

    def clean(self) -> dict:
        cleaned = super().clean()
        station = cleaned.get("station") or getattr(self.instance, "station", None)
        observer = cleaned.get("observer") or getattr(self.instance, "observer", None)
        if station is None or observer is None:
            return cleaned
        if not okrug_in_scope(self.user, station.okrug_id):
            self.add_error("station", _("This station is outside the okrugs you work on."))
        if station.election_id != observer.election_id:
            self.add_error(
                "station", _("The observer and the station belong to different elections.")
            )
        return cleaned


@admin.register(Assignment)
class AssignmentAdmin(OkrugScoped, admin.ModelAdmin):
    """Who is assigned where, by okrug and TIK; the roster import assigns in bulk."""

    okrug_path = "station__okrug_id"
    form = AssignmentForm
    list_display = ["station_number", "observer", "tik", "okrug", "status", "checked_in_at"]
    list_filter = [OkrugFilter, TikFilter, StationNumberFilter, "status"]
    list_select_related = ["observer", "station__tik", "station__okrug"]
    search_fields = ["observer__pseudonym"]
    search_help_text = _("An observer's pseudonym.")
    ordering = ["station__number", "observer__pseudonym"]
    raw_id_fields = ["observer", "station"]
    show_full_result_count = False
    actions = ["mark_arrived", "mark_left", "mark_removed", "mark_planned"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.user = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        return ["observer", "station", "checked_in_at"] if obj else ["checked_in_at"]

    def get_fields(self, request, obj=None):
        return ["observer", "station", "status", "checked_in_at"]

    @admin.display(description=_("station"), ordering="station__number")
    def station_number(self, assignment: Assignment) -> int:
        return assignment.station.number

    @admin.display(description=_("territorial commission"))
    def tik(self, assignment: Assignment) -> str:
        return assignment.station.tik.name

    @admin.display(description=_("okrug"))
    def okrug(self, assignment: Assignment) -> str:
        return assignment.station.okrug.name

    def save_model(self, request, obj, form, change):
        if not change:
            created = assignment_create(
                observer=obj.observer, station=obj.station, actor=request.user
            )
            obj.pk = created.pk
        assignment_set_status(assignment=obj, status=obj.status, actor=request.user)

    def delete_model(self, request, obj):
        assignment_delete(assignment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            assignment_delete(assignment=assignment, actor=request.user)

    def mark(self, request, queryset, status: str) -> None:
        changed = 0
        for assignment in queryset:
            try:
                changed += assignment_set_status(
                    assignment=assignment, status=status, actor=request.user
                )
            except CoverageRefused as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
        self.message_user(
            request,
            ngettext("%d assignment changed.", "%d assignments changed.", changed) % changed,
            messages.SUCCESS,
        )

    @admin.action(permissions=["change"], description=_("Mark selected as arrived"))
    def mark_arrived(self, request, queryset):
        self.mark(request, queryset, Assignment.Status.ARRIVED)

    @admin.action(permissions=["change"], description=_("Mark selected as left"))
    def mark_left(self, request, queryset):
        self.mark(request, queryset, Assignment.Status.LEFT)

    @admin.action(
        permissions=["change"], description=_("Mark selected as removed by the commission")
    )
    def mark_removed(self, request, queryset):
        self.mark(request, queryset, Assignment.Status.REMOVED)

    @admin.action(permissions=["change"], description=_("Mark selected as planned"))
    def mark_planned(self, request, queryset):
        self.mark(request, queryset, Assignment.Status.PLANNED)


@admin.register(MobileGroup)
class MobileGroupAdmin(OkrugScoped, admin.ModelAdmin):
    list_display = ["name", "okrug", "car", "status", "station"]
    list_filter = ["okrug", "status"]
    list_select_related = ["okrug", "station"]
    search_fields = ["name", "car"]
    fields = ["okrug", "name", "car", "members", "status", "station"]
    readonly_fields = ["status", "station"]
    actions = ["put_off_duty", "put_on_duty"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "okrug":
            kwargs["queryset"] = okrugs_for(request.user).select_related("election")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        mobile_group_save(group=obj, actor=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # trips keep their group; put a group off duty instead

    def set_duty(self, request, queryset, on_duty: bool) -> None:
        changed = sum(
            mobile_group_set_duty(group=group, on_duty=on_duty, actor=request.user)
            for group in queryset
        )
        self.message_user(
            request,
            ngettext("%d group changed.", "%d groups changed.", changed) % changed,
            messages.SUCCESS,
        )

    @admin.action(permissions=["change"], description=_("Put selected off duty"))
    def put_off_duty(self, request, queryset):
        self.set_duty(request, queryset, on_duty=False)

    @admin.action(permissions=["change"], description=_("Put selected back on duty"))
    def put_on_duty(self, request, queryset):
        self.set_duty(request, queryset, on_duty=True)


@admin.register(Dispatch)
class DispatchAdmin(OkrugScoped, admin.ModelAdmin):
    """Every trip of the mobile groups; trips are sent and moved on from the groups' board."""

    okrug_path = "station__okrug_id"
    list_display = [
        "dispatched_at", "group", "station_number", "incident_link", "status", "on_site_at",
        "done_at", "dispatched_by",
    ]  # fmt: skip
    list_filter = ["status", "group"]
    list_select_related = ["group", "station", "dispatched_by"]
    ordering = ["-dispatched_at"]
    show_full_result_count = False
    fields = [
        "group", "incident_link", "station", "status", "dispatched_by", "dispatched_at",
        "on_site_at", "done_at", "notes",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("station"), ordering="station__number")
    def station_number(self, dispatch: Dispatch) -> int:
        return dispatch.station.number

    @admin.display(description=_("incident"))
    def incident_link(self, dispatch: Dispatch) -> str:
        if dispatch.incident_id is None:
            return "—"
        url = reverse("admin:reports_incident_change", args=[dispatch.incident_id])
        return format_html('<a href="{}">#{}</a>', url, dispatch.incident_id)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CoverageRules)
class CoverageRulesAdmin(admin.ModelAdmin):
    """When observers must check in and send counts; an election without rules uses the
    defaults shown on the add form."""

    list_display = [
        "election", "checkin_minutes", "silence_minutes", "checkpoints",
        "checkpoint_grace_minutes", "alerts_enabled",
    ]  # fmt: skip

    def save_model(self, request, obj, form, change):
        coverage_rules_save(rules=obj, actor=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
