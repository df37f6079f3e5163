"""Administrators issue and revoke partner tokens here, and can see export jobs.

A new token is shown once, on the page that follows its creation, and never again: only
its SHA-256 is stored. Every change goes through reports.services.partners.
"""

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports.models import ExportJob, PartnerToken
from reports.services.partners import partner_token_create, partner_token_revoke


@admin.register(PartnerToken)
class PartnerTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scope"]
        return [*self.get_readonly_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["name", "prefix", "scope", "created_at", "created_by", "last_used_at", "revoked_at"]

    def save_model(self, request, obj, form, change) -> None:
        token, raw = partner_token_create(
            name=form.cleaned_data["name"], scope=form.cleaned_data["scope"], actor=request.user
        )
        obj.pk, obj.prefix, obj.token_hash = token.pk, token.prefix, token.token_hash
        obj.raw_token = raw

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "token": obj,
            "raw_token": obj.raw_token,
            "title": _("Partner token created"),
        }
        return TemplateResponse(request, "exports/token_created.html", context)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a token is never edited: revoke it and issue another

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # kept, revoked, for the audit trail and its export jobs

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("reports.change_partnertoken")

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request, queryset) -> None:
        revoked = sum(partner_token_revoke(token=token, actor=request.user) for token in queryset)
        message = ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", revoked)
        self.message_user(request, message % {"count": revoked}, messages.SUCCESS)


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "shape",
        "format",
        "scope",
        "status",
        "rows_done",
        "requested_by",
        "token",
    ]
    list_filter = ["status", "shape", "scope"]
    list_select_related = ["requested_by", "token"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
