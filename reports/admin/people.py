"""Reference lists of the panel: places, observers and their contacts, escalations, the
downloads log, and staff accounts with the okrugs they are limited to. All read-only but the
accounts and role groups, whose every change of roles is written to the audit log, and the
okrug limits, which go through services (and the import pages of the importers).
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from reports import models
from reports.admin.base import ReadOnlyAdmin, ScopedByOkrug, station_label
from reports.admin.imports import ObserverImportMixin, StationImportMixin
from reports.selectors import staff_okrug_ids
from reports.services.roles import (
    group_delete,
    group_permissions_record,
    group_state,
    staff_scope_add,
    staff_scope_remove,
    user_delete,
    user_roles_record,
    user_roles_state,
)


@admin.register(models.Okrug)
class OkrugAdmin(ScopedByOkrug):
    okrug_path = "pk"
    list_display = ["name", "election"]
    list_filter = ["election"]


@admin.register(models.Tik)
class TikAdmin(ScopedByOkrug):
    list_display = ["name", "okrug"]
    list_filter = ["okrug"]
    list_select_related = ["okrug"]
    search_fields = ["name"]


@admin.register(models.Station)
class StationAdmin(StationImportMixin, ScopedByOkrug):
    list_display = ["number", "tik", "okrug", "is_temporary", "has_scanner", "address"]
    list_filter = ["okrug", "is_temporary", "has_scanner"]
    list_select_related = ["tik", "okrug"]
    search_fields = ["=number", "address"]


class ContactInline(admin.StackedInline):
    model = models.ObserverContact
    can_delete = False


class AssignmentInline(admin.TabularInline):
    model = models.Assignment
    extra = 0
    fields = readonly_fields = ["station", "status", "checked_in_at"]


def observers_assigned_in(okrug_ids: frozenset[int], observer_ref: str) -> Exists:
    return Exists(
        models.Assignment.objects.filter(
            observer=OuterRef(observer_ref), station__okrug_id__in=okrug_ids
        )
    )


@admin.register(models.Observer)
class ObserverAdmin(ObserverImportMixin, ReadOnlyAdmin):
    """Pseudonym and role for everyone with the view permission; contacts only with theirs."""

    list_display = ["pseudonym", "legal_status", "trust", "election"]
    list_filter = ["election", "legal_status", "trust"]
    list_select_related = ["election"]
    search_fields = ["pseudonym"]
    fields = ["pseudonym", "election", "legal_status", "trust", "created_at"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        okrug_ids = staff_okrug_ids(request.user)
        if okrug_ids is None:
            return queryset
        return queryset.filter(observers_assigned_in(okrug_ids, "pk"))

    def get_inlines(self, request, obj):
        if request.user.has_perm("reports.view_observercontact"):
            return [ContactInline, AssignmentInline]
        return [AssignmentInline]


@admin.register(models.ObserverContact)
class ObserverContactAdmin(ReadOnlyAdmin):
    list_display = ["observer", "full_name", "phone", "email", "messenger"]
    list_select_related = ["observer"]
    search_fields = ["observer__pseudonym", "full_name", "phone"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        okrug_ids = staff_okrug_ids(request.user)
        if okrug_ids is None:
            return queryset
        return queryset.filter(observers_assigned_in(okrug_ids, "observer"))


@admin.register(models.Escalation)
class EscalationAdmin(ScopedByOkrug):
    """The dispatch list: which incidents asked for a mobile group, a lawyer, a complaint."""

    okrug_path = "incident__station__okrug_id"
    list_display = ["created_at", "kind", "incident_link", "station", "created_by", "note"]
    list_filter = ["kind"]
    list_select_related = ["incident__station", "created_by"]
    ordering = ["-created_at"]

    @admin.display(description=_("incident"))
    def incident_link(self, escalation: models.Escalation) -> str:
        url = reverse("admin:reports_incident_change", args=[escalation.incident_id])
        return format_html('<a href="{}">#{}</a>', url, escalation.incident_id)

    @admin.display(description=_("station"))
    def station(self, escalation: models.Escalation) -> str:
        return station_label(escalation.incident.station)


@admin.register(models.EvidenceAccess)
class EvidenceAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "evidence", "protocol_copy", "sha256", "ip_address"]
    list_select_related = ["user", "evidence", "protocol_copy__station"]
    search_fields = ["sha256"]
    ordering = ["-at"]

    def get_queryset(self, request):
        """Downloads of files from the staff member's okrugs: evidence or protocol photos."""
        rows = super().get_queryset(request)
        okrug_ids = staff_okrug_ids(request.user)
        if okrug_ids is None:
            return rows
        return rows.filter(
            Q(evidence__report__station__okrug_id__in=okrug_ids)
            | Q(protocol_copy__station__okrug_id__in=okrug_ids)
        )


class StaffScopeInline(admin.TabularInline):
    model = models.StaffScope
    extra = 1
    verbose_name_plural = _("okrugs this staff member is limited to (none: all okrugs)")


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Accounts, with the okrugs a moderator or coordinator is limited to."""

    inlines = [StaffScopeInline]

    def save_model(self, request, obj, form, change):
        # Read before saving: groups and permissions are saved later, in save_related.
        stored = User.objects.filter(pk=obj.pk).first() if change else None
        request.roles_before = user_roles_state(stored) if stored else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user_roles_record(user=form.instance, before=request.roles_before, actor=request.user)

    def delete_model(self, request, obj):
        user_delete(user=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            user_delete(user=user, actor=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is not models.StaffScope:
            return super().save_formset(request, form, formset, change)
        scopes = formset.save(commit=False)
        for scope in formset.deleted_objects:
            staff_scope_remove(scope=scope, actor=request.user)
        for scope in scopes:
            staff_scope_add(user=form.instance, okrug=scope.okrug, actor=request.user)
        return None


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(GroupAdmin):
    """Role groups (moderator, coordinator, lawyer, administrator): what each may do."""

    def save_model(self, request, obj, form, change):
        stored = Group.objects.filter(pk=obj.pk).first() if change else None
        request.group_before = group_state(stored) if stored else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        group_permissions_record(
            group=form.instance, before=request.group_before, actor=request.user
        )

    def delete_model(self, request, obj):
        group_delete(group=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for group in queryset:
            group_delete(group=group, actor=request.user)
