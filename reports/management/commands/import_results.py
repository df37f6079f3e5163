"""Import official per-station results: `manage.py import_results PATH [--election ID]`.

Reads the CSV format of `shared/data` (zipped or not) or the Golos xlsx layout. A file is
imported whole or not at all: any refused row, and anything else that goes wrong, leaves the
election as it was and exits non-zero. With --import-good-rows the clean rows are kept. Every
refused row is printed with its row number and column.
"""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reports.domain.protocol_checks import TEMPLATE_FILES, election_template, template_load
from reports.importers.results import csv_header, line_count_guess, protocol_headers, rows_parse
from reports.importers.table import ImportFileError
from reports.models import Election, ResultsImport
from reports.services.protocols import (
    official_results_import,
    results_election_create,
    statistics_run_request,
)


class Command(BaseCommand):
    help = "Import official per-station results (CSV, zipped CSV or Golos xlsx)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--election", type=int, help="id of an existing election")
        parser.add_argument("--name", help="create a new election with this name")
        parser.add_argument("--date", type=dt.date.fromisoformat, help="its day, YYYY-MM-DD")
        parser.add_argument(
            "--template",
            choices=sorted(TEMPLATE_FILES),
            help="protocol form of a new election (default: guessed from the CSV header)",
        )
        parser.add_argument("--region", default="", help="import only this region's rows")
        parser.add_argument(
            "--import-good-rows",
            action="store_true",
            help="keep the clean rows of a file with refused rows (default: import nothing)",
        )
        parser.add_argument("--statistics", action="store_true", help="then compute the statistics")

    def handle(self, *args, path: Path, **options) -> None:
        if not path.is_file():
            raise CommandError(_("%(path)s: no such file") % {"path": path})
        election = self.election(path, options)
        template = election_template(election)
        try:
            run, issues = official_results_import(
                election=election,
                rows=rows_parse(path, template, region=options["region"]),
                source=path.name,
                region=options["region"],
                keep_good_rows=options["import_good_rows"],
            )
        except ImportFileError as error:
            raise CommandError(
                _("%(file)s: %(problem)s. Nothing was imported.")
                % {"file": path.name, "problem": error.message.rstrip(".")}
            ) from None
        for issue in issues:
            self.stdout.write(str(issue))
        refused = len({issue.row for issue in issues if issue.refused})
        self.stdout.write(
            _(
                "%(file)s: rows read %(read)d, imported %(imported)d, refused %(refused)d; "
                "election %(id)d (%(name)s)"
            )
            % {
                "file": path.name,
                "read": run.rows_read,
                "imported": run.rows_imported,
                "refused": refused,
                "id": election.pk,
                "name": election.name,
            }
        )
        if run.outcome == ResultsImport.Outcome.REFUSED:
            raise CommandError(
                ngettext(
                    "Nothing was imported: %(refused)d row has errors. Correct it, or keep "
                    "the good rows with --import-good-rows.",
                    "Nothing was imported: %(refused)d rows have errors. Correct them, or "
                    "keep the good rows with --import-good-rows.",
                    refused,
                )
                % {"refused": refused}
            )
        if run.control_failed:
            self.stdout.write(
                _("Rows kept that fail control relations: %(count)d; see %(link)s")
                % {"count": run.control_failed, "link": failed_rows_link(election)}
            )
        if options["statistics"]:
            statistics_run_request(election=election)

    def election(self, path: Path, options: dict) -> Election:
        if options["election"]:
            election = Election.objects.filter(pk=options["election"]).first()
            if election is None:
                raise CommandError(f"no election with id {options['election']}")
            return election
        if not (options["name"] and options["date"]):
            raise CommandError("give --election ID, or --name and --date for a new election")
        if path.suffix.lower() == ".xlsx":
            raise CommandError("an xlsx file names no candidates: import it with --election")
        try:
            header = csv_header(path)
        except ImportFileError as error:
            raise CommandError(f"{path.name}: {error.message}") from None
        key = options["template"] or line_count_guess(header)
        protocol = protocol_headers(header)
        template = template_load(key, protocol[len(template_load(key)["lines"]) :])
        for line, name in zip(template["lines"], protocol, strict=False):
            line["header"] = name
        return results_election_create(
            name=options["name"], date=options["date"], template=template
        )


def failed_rows_link(election: Election) -> str:
    """Where moderators see the official rows of an election that fail control relations."""
    changelist = reverse("admin:reports_officialresult_changelist")
    return f"{changelist}?election__id__exact={election.pk}&control=failed"
