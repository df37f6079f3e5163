"""Import official per-station results: `manage.py import_results PATH [--election ID]`.

Reads the CSV format of `shared/data` (zipped or not) or the Golos xlsx layout. Clean rows
are stored; every refused row is printed with its row number and column.
"""

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.domain.protocol_checks import TEMPLATE_FILES, election_template, template_load
from reports.importers.results import (
    candidate_names_from_csv,
    csv_header,
    line_count_guess,
    rows_parse,
    table_open,
)
from reports.models import Election
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
        parser.add_argument("--statistics", action="store_true", help="then compute the statistics")

    def handle(self, *args, path: Path, **options) -> None:
        if not path.exists():
            raise CommandError(f"{path} does not exist")
        election = self.election(path, options)
        template = election_template(election)
        try:
            table = table_open(path, protocol_columns=len(template.keys))
            rows = rows_parse(table, template, region=options["region"])
            run, issues = official_results_import(
                election=election,
                rows=rows,
                source=path.name,
                region=options["region"],
            )
        except ValueError as error:
            raise CommandError(f"{path}: {error}") from None
        for issue in issues:
            self.stdout.write(str(issue))
        refused = len({issue.row for issue in issues if issue.refused})
        self.stdout.write(
            f"{path.name}: {run.rows_read} rows read, {run.rows_imported} imported, "
            f"{refused} refused, election {election.pk} ({election.name})"
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
        header = csv_header(path)
        key = options["template"] or line_count_guess(header)
        lines = len(template_load(key)["lines"])
        return results_election_create(
            name=options["name"],
            date=options["date"],
            template=template_load(key, candidate_names_from_csv(header, lines)),
        )
