"""What the import commands share: choosing the election and printing an outcome."""

from argparse import ArgumentParser
from pathlib import Path

from django.core.management.base import CommandError, OutputWrapper
from django.utils.translation import gettext as _

from reports.importers.table import ImportOutcome
from reports.models import Election

MAX_ERRORS_PRINTED = 500


def import_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("path", type=Path)
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change, write nothing"
    )
    parser.add_argument(
        "--import-good-rows",
        action="store_true",
        help="import the correct rows even when other rows have errors",
    )


def election_choose(election_id: int | None) -> Election:
    """The election given by id, or the only one there is."""
    if election_id is not None:
        election = Election.objects.filter(pk=election_id).first()
        if election is None:
            raise CommandError(_("There is no election with id %(id)d.") % {"id": election_id})
        return election
    elections = list(Election.objects.all()[:2])
    if len(elections) != 1:
        raise CommandError(_("Choose the election with --election ID."))
    return elections[0]


def file_read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise CommandError(
            _("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": error.strerror}
        ) from None


def outcome_write(stdout: OutputWrapper, outcome: ImportOutcome, *, import_good_rows: bool) -> None:
    """Print the outcome; fail (exit status 1) when the file has errors not waved through."""
    for line in [*outcome.summary, *outcome.notes, *outcome.warnings]:
        stdout.write(line)
    for error in outcome.errors[:MAX_ERRORS_PRINTED]:
        stdout.write(str(error))
    hidden = len(outcome.errors) - MAX_ERRORS_PRINTED
    if hidden > 0:
        stdout.write(_("…and %(n)d more errors.") % {"n": hidden})
    if outcome.errors and not import_good_rows:
        raise CommandError(outcome.verdict())
    stdout.write(outcome.verdict())
