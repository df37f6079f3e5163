"""Coordinators' quick-count samples: draw one (the form calls `quickcount_sample_draw`),
see its seed, size, expected margin and estimate, and open the quick-count page."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from reports.domain import quickcount
from reports.forms.quickcount import SampleDrawForm
from reports.models import Election, QuickCountSample
from reports.services.quickcount import quickcount_sample_draw

PLANNING_SIZES = (100, 200, 400, 800)


def planning_rows() -> list[dict]:
    """Each election's station count and the margin expected for a few sample sizes."""
    elections = Election.objects.exclude(protocol_template={}).annotate(count=Count("stations"))
    return [
        {
            "election": election,
            "stations": election.count,
            "margins": [100 * quickcount.expected_margin(min(size, election.count), election.count)
                        for size in PLANNING_SIZES],
        }
        for election in elections
        if election.count
    ]  # fmt: skip


@admin.register(QuickCountSample)
class QuickCountSampleAdmin(admin.ModelAdmin):
    list_display = [
        "election",
        "size",
        "seed",
        "margin",
        "threshold",
        "drawn_at",
        "reported",
        "page",
    ]
    list_filter = ["election"]
    list_select_related = ["election"]
    exclude = ["estimate", "stations"]
    readonly_fields = ["election", "seed", "size", "margin", "threshold", "drawn_at", "drawn_by",
                       "estimated_at", "reported", "page"]  # fmt: skip

    def get_urls(self) -> list:
        draw = path(
            "draw/",
            self.admin_site.admin_view(self.draw_view),
            name="reports_quickcountsample_draw",
        )
        return [draw, *super().get_urls()]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        """Samples are drawn, not typed in: the add button leads to the draw form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        return redirect("admin:reports_quickcountsample_draw")

    def draw_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SampleDrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            sample = quickcount_sample_draw(
                election=data["election"],
                actor=request.user,
                size=data["size"],
                margin=data["margin"] / 100 if data["margin"] is not None else None,
                seed=data["seed"],
                threshold=data["threshold"] / 100,
            )
            messages.success(
                request,
                _("Drew %(size)d stations, seed %(seed)d; expected margin ±%(margin).1f points.")
                % {
                    "size": sample.size,
                    "seed": sample.seed,
                    "margin": 100 * sample.expected_margin,
                },
            )
            return redirect("admin:reports_quickcountsample_change", sample.pk)
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": _("Draw a quick-count sample"), "sizes": PLANNING_SIZES,
                   "planning": planning_rows()}  # fmt: skip
        return render(request, "admin/reports/quickcount_draw.html", context)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_lazy("expected margin, points"))
    def margin(self, sample: QuickCountSample) -> str:
        return f"±{100 * sample.expected_margin:.2f}"

    @admin.display(description=_lazy("stations reported"))
    def reported(self, sample: QuickCountSample) -> str:
        return str((sample.estimate or {}).get("stations_reported", "—"))

    @admin.display(description=_lazy("quick count"))
    def page(self, sample: QuickCountSample) -> str:
        url = f"{reverse('protocols:quickcount')}?election={sample.election_id}"
        return format_html('<a href="{}">{}</a>', url, _("open"))
