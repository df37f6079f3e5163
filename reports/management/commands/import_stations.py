import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reports.importers.console import (
    election_choose,
    file_read,
    import_arguments,
    outcome_write,
)
from reports.importers.stations import ElectionDraft, stations_file_import
from reports.importers.table import ImportFileError
from reports.models import validate_time_zone


class Command(BaseCommand):
    help = (
        "Import the official list of polling stations (CSV: Округ, Территория (ТИК), "
        "№ участка, temporary and KOIB marks). Re-importing the same list changes nothing."
    )

    def add_arguments(self, parser) -> None:
        import_arguments(parser)
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--election", type=int, metavar="ID", help="election to import into")
        target.add_argument(
            "--create-election",
            metavar="NAME",
            help="import into the election of this name and --date, creating it if needed",
        )
        parser.add_argument("--date", type=datetime.date.fromisoformat, metavar="YYYY-MM-DD")
        parser.add_argument("--time-zone", default="Europe/Moscow")

    def handle(self, *args, **options) -> None:
        if options["create_election"]:
            if options["date"] is None:
                raise CommandError(_("--create-election needs --date YYYY-MM-DD."))
            try:
                validate_time_zone(options["time_zone"])
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            election = ElectionDraft(
                name=options["create_election"],
                date=options["date"],
                time_zone=options["time_zone"],
            )
        else:
            election = election_choose(options["election"])
        path = options["path"]
        try:
            outcome = stations_file_import(
                data=file_read(path),
                election=election,
                dry_run=options["dry_run"],
                import_good_rows=options["import_good_rows"],
                source=path.name,
            )
        except ImportFileError as error:
            raise CommandError(error.message) from None
        outcome_write(self.stdout, outcome, import_good_rows=options["import_good_rows"])
