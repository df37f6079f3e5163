import csv
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reports.importers.console import (
    election_choose,
    file_read,
    import_arguments,
    outcome_write,
)
from reports.importers.observers import observers_file_import, signin_url
from reports.importers.table import ImportFileError, ImportOutcome


class Command(BaseCommand):
    help = (
        "Import observers (CSV: pseudonym, full name, phone, email, legal status, trust, "
        "stations) and issue each new one a personal sign-in link."
    )

    def add_arguments(self, parser) -> None:
        import_arguments(parser)
        parser.add_argument("--election", type=int, metavar="ID")
        parser.add_argument(
            "--reissue-links",
            action="store_true",
            help="give observers already known a new link, revoking their old ones",
        )
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--links-out",
            type=Path,
            metavar="FILE",
            help="write the links to this CSV file (readable by you only) instead of printing",
        )

    def handle(self, *args, **options) -> None:
        path = options["path"]
        try:
            outcome = observers_file_import(
                data=file_read(path),
                election=election_choose(options["election"]),
                dry_run=options["dry_run"],
                import_good_rows=options["import_good_rows"],
                reissue_links=options["reissue_links"],
            )
        except ImportFileError as error:
            raise CommandError(error.message) from None
        if outcome.links:
            self.links_write(outcome, options["base_url"], options["links_out"])
        outcome_write(self.stdout, outcome, import_good_rows=options["import_good_rows"])

    def links_write(self, outcome: ImportOutcome, base_url: str, out: Path | None) -> None:
        rows = [
            (link.pseudonym, link.short_code, signin_url(base_url, link.token))
            for link in outcome.links
        ]
        if out is None:
            for row in rows:
                self.stdout.write("\t".join(row))
            return
        # The links sign people in: the file is created readable by its owner only.
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["pseudonym", "short_code", "url"])
            writer.writerows(rows)
        self.stdout.write(
            _("Sign-in links written to %(path)s: %(n)d.") % {"path": out, "n": len(rows)}
        )
