"""Elections and incident categories: every edit through a service with its audit entry;
nothing that holds data is deleted (elections are archived, categories in use retired)."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reports.domain.times import EARLIEST, LATEST
from reports.models import Category, Election
from reports.services.elections import (
    category_delete,
    category_in_use,
    category_retire,
    category_save,
    election_archive,
    election_save,
)


class ElectionForm(forms.ModelForm):
    def clean_date(self):
        """Election day within the years every time on the site may take (domain.times), so
        that no report window or polls time around it falls outside what can be stored."""
        day = self.cleaned_data["date"]
        if not EARLIEST.year <= day.year < LATEST.year:
            raise forms.ValidationError(
                _("Give a date between the years %(first)s and %(last)s.")
                % {"first": EARLIEST.year, "last": LATEST.year - 1}
            )
        return day


@admin.register(Election)
class ElectionAdmin(admin.ModelAdmin):
    form = ElectionForm
    list_display = ["name", "date", "time_zone", "polls_open", "polls_close", "is_active",
                    "archived_at"]  # fmt: skip
    list_filter = ["is_active"]
    readonly_fields = ["archived_at"]
    actions = ["archive"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # an election holds evidence: archive it instead

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.archived_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Election, form, change: bool) -> None:
        election_save(election=obj, actor=request.user)

    @admin.action(
        description=_("Archive the selected elections (kept whole, read-only)"),
        permissions=["change"],
    )
    def archive(self, request: HttpRequest, queryset: QuerySet) -> None:
        archived = [e for e in queryset if e.archived_at is None]
        revoked = sum(election_archive(election=e, actor=request.user) for e in archived)
        message = ngettext(
            "%(count)d election archived; %(links)d sign-in links revoked.",
            "%(count)d elections archived; %(links)d sign-in links revoked.",
            len(archived),
        )
        self.message_user(
            request, message % {"count": len(archived), "links": revoked}, messages.SUCCESS
        )


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_ru", "name_en", "phase", "severity", "retired"]
    list_filter = ["phase", "severity", "retired"]
    actions = ["retire", "restore"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and category_in_use(obj):
            return False  # reports refer to it: retire it instead
        return super().has_delete_permission(request, obj)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one by one, each checked for use
        return actions

    def save_model(self, request: HttpRequest, obj: Category, form, change: bool) -> None:
        category_save(category=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        category_delete(category=obj, actor=request.user)

    def retire_selected(self, request: HttpRequest, queryset: QuerySet, *, retired: bool) -> None:
        changed = sum(
            category_retire(category=c, actor=request.user, retired=retired) for c in queryset
        )
        message = ngettext("%(count)d category changed.", "%(count)d categories changed.", changed)
        self.message_user(request, message % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("Retire: stop offering on the forms"), permissions=["change"])
    def retire(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.retire_selected(request, queryset, retired=True)

    @admin.action(description=_("Offer on the forms again"), permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.retire_selected(request, queryset, retired=False)
