"""Upload pages for the station list and the observer roster ("Import from CSV" on the
station and observer lists of the admin). They run the same importers as the management
commands `import_stations` and `import_observers`, for staff allowed to add stations or
observers. An import of a few thousand rows takes well under a second (docs/benchmarks.md).
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from reports.importers.observers import observers_file_import, signin_url
from reports.importers.stations import stations_file_import
from reports.importers.table import ImportFileError, ImportOutcome, decode
from reports.models import Election

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ERRORS_SHOWN = 200


class ImportForm(forms.Form):
    election = forms.ModelChoiceField(queryset=Election.objects.all(), label=_("Election"))
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 or Windows-1251; columns separated by commas or semicolons."),
    )
    dry_run = forms.BooleanField(
        required=False, label=_("Preview only: show what would change and write nothing")
    )
    import_good_rows = forms.BooleanField(
        required=False,
        label=_("Import the good rows anyway"),
        help_text=_("Without this, a file with any error changes nothing."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["election"].initial = Election.objects.filter(is_active=True).first()

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)d MB."),
                params={"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        data = upload.read()
        try:
            decode(data)
        except ImportFileError as error:
            raise ValidationError(error.message) from None
        return data


class ObserverImportForm(ImportForm):
    reissue_links = forms.BooleanField(
        required=False,
        label=_("Give observers already known a new link (their old links stop working)"),
    )


class ImportMixin:
    """Adds an `import/` page to a ModelAdmin; subclasses say how to run the import."""

    import_form = ImportForm
    import_title = ""
    import_columns = ""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        view = self.admin_site.admin_view(self.import_view)
        # Before the model's own URLs, whose `<path:object_id>/` would take "import/".
        return [path("import/", view, name=name), *super().get_urls()]

    def import_run(self, request: HttpRequest, data: dict) -> ImportOutcome:
        raise NotImplementedError

    def import_context(self, request: HttpRequest, outcome: ImportOutcome) -> dict:
        return {}

    def import_view(self, request: HttpRequest) -> HttpResponse:
        # The lists themselves may be read-only: importing needs the add permission as such.
        if not request.user.has_perm(f"{self.opts.app_label}.add_{self.opts.model_name}"):
            raise PermissionDenied
        if request.method == "POST":
            form = self.import_form(request.POST, request.FILES)
        else:
            form = self.import_form()
        outcome, extra = None, {}
        if form.is_valid():
            try:
                outcome = self.import_run(request, form.cleaned_data)
            except ImportFileError as error:
                form.add_error("file", error.message)
            else:
                extra = self.import_context(request, outcome)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.import_title,
            "columns": self.import_columns,
            "form": form,
            "outcome": outcome,
            "errors": outcome.errors[:MAX_ERRORS_SHOWN] if outcome else [],
            "hidden_errors": max(0, len(outcome.errors) - MAX_ERRORS_SHOWN) if outcome else 0,
            **extra,
        }
        return TemplateResponse(request, "admin/reports/import_form.html", context)


class StationImportMixin(ImportMixin):
    import_title = _("Import stations")
    import_columns = _(
        "The official list: columns “Округ”, “Территория (ТИК)”, “№ участка”, “участки в "
        "местах временного пребывания избирателей” and “участки с КОИБ” (any text in the "
        "last two means yes), optionally “Адрес”."
    )

    def import_run(self, request: HttpRequest, data: dict) -> ImportOutcome:
        return stations_file_import(
            data=data["file"],
            election=data["election"],
            dry_run=data["dry_run"],
            import_good_rows=data["import_good_rows"],
            actor=request.user,
            source=request.FILES["file"].name,
        )


class ObserverImportMixin(ImportMixin):
    import_form = ObserverImportForm
    import_title = _("Import observers")
    import_columns = _(
        "Columns “pseudonym”, “full name”, “phone”, “email”, “legal status” (observer, "
        "consultative, deciding, journalist), “trust” (1–3) and “stations” (numbers separated "
        "by spaces or commas). Each new observer gets a personal sign-in link."
    )

    def import_run(self, request: HttpRequest, data: dict) -> ImportOutcome:
        return observers_file_import(
            data=data["file"],
            election=data["election"],
            dry_run=data["dry_run"],
            import_good_rows=data["import_good_rows"],
            reissue_links=data["reissue_links"],
            actor=request.user,
        )

    def import_context(self, request: HttpRequest, outcome: ImportOutcome) -> dict:
        base_url = request.build_absolute_uri("/")
        return {
            "links": [
                (link.pseudonym, link.short_code, signin_url(base_url, link.token))
                for link in outcome.links
            ]
        }
