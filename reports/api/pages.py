"""The export page of the site: choose records, format and filters, watch the progress bar,
download. Staff only; the page itself does no work (services.exports does, in a worker)."""

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from reports.domain.times import MomentField
from reports.models import (
    Category,
    Election,
    ExportFormat,
    ExportJob,
    ExportScope,
    ExportShape,
    Okrug,
    Phase,
)
from reports.selectors import staff_okrug_ids
from reports.services.exports import (
    ExportFiltersInvalid,
    ExportLimitReached,
    export_limit_message,
    export_start,
)

FILTERS = ("election", "okrug", "category", "phase", "after", "before")


class ExportForm(forms.Form):
    shape = forms.ChoiceField(label=_("Records"), choices=ExportShape.choices)
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices)
    scope = forms.ChoiceField(label=_("Dataset"), choices=ExportScope.choices)
    election = forms.ModelChoiceField(
        label=_("Election"), queryset=Election.objects.all(), required=False
    )
    okrug = forms.ModelChoiceField(label=_("Okrug"), queryset=Okrug.objects.all(), required=False)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), to_field_name="code", required=False
    )
    phase = forms.ChoiceField(label=_("Phase"), choices=[("", "—"), *Phase.choices], required=False)
    after = MomentField(label=_("From (time)"), required=False)
    before = MomentField(label=_("Until (time)"), required=False)

    def filters(self) -> dict[str, str]:
        """The chosen filters as the API takes them (strings, by the API's names)."""
        values = {}
        for name in FILTERS:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if hasattr(value, "isoformat"):
                values[name] = value.isoformat()
            elif name == "category":
                values[name] = value.code
            else:
                values[name] = str(getattr(value, "pk", value))
        return values


@staff_member_required
def export_new(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        scope = form.cleaned_data["scope"]
        if scope == ExportScope.FULL and not request.user.has_perm("reports.view_report"):
            form.add_error("scope", _("You may export the public dataset only."))
        elif scope == ExportScope.FULL and staff_okrug_ids(request.user) is not None:
            form.add_error(
                "scope", _("Your access is limited to some okrugs: export the public dataset.")
            )
        else:
            try:
                job = export_start(
                    shape=form.cleaned_data["shape"],
                    fmt=form.cleaned_data["format"],
                    scope=scope,
                    filters=form.filters(),
                    requested_by=request.user,
                )
            except ExportFiltersInvalid as invalid:
                form.add_error(None, str(invalid.errors))
            except ExportLimitReached as limit:
                form.add_error(None, export_limit_message(limit.limit))
            else:
                return redirect("exports:status", job.pk)
    jobs = ExportJob.objects.filter(requested_by=request.user)[:10]
    context = {"form": form, "jobs": jobs}
    return render(request, "exports/new.html", context, status=400 if form.errors else 200)


@staff_member_required
def export_status(request: HttpRequest, pk) -> HttpResponse:
    job = get_object_or_404(ExportJob, pk=pk, requested_by=request.user)
    status_url = reverse("api:export-detail", args=[job.pk])
    download_url = (
        reverse("api:export-download", args=[job.pk]) if job.status == ExportJob.Status.DONE else ""
    )
    context = {"job": job, "status_url": status_url, "download_url": download_url}
    return render(request, "exports/status.html", context)


app_name = "exports"
urlpatterns = [
    path("", export_new, name="new"),
    path("<uuid:pk>/", export_status, name="status"),
]
