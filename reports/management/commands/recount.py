"""Rebuild the tallies from the reports, or with --check only say whether they drifted."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from reports.domain.clustering import tallies_compute, tallies_read
from reports.services.aggregation import pending_count, quarantined_count, tallies_recount


class Command(BaseCommand):
    help = _("Rebuild the report tallies from scratch (or compare them with --check).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--election", type=int, help=_("only this election (id)"))
        parser.add_argument(
            "--check",
            action="store_true",
            help=_(
                "compare only; exit with status 1 if the tallies differ from a recount "
                "or reports are quarantined"
            ),
        )

    def handle(self, *args, election: int | None, check: bool, **options) -> None:
        if not check:
            rows = tallies_recount(election_id=election)
            self.stdout.write(_("Recounted: %(rows)s tally rows.") % {"rows": rows})
            return
        stored = tallies_read(election_id=election)
        counted = tallies_compute(election_id=election)
        differing = sorted(k for k in set(stored) | set(counted) if stored[k] != counted[k])
        pending = pending_count()
        if pending:
            self.stdout.write(_("%(count)s reports wait for aggregation.") % {"count": pending})
        for election_id, dimension, key, hour in differing[:50]:
            self.stdout.write(
                f"{election_id} {dimension}={key} {hour:%Y-%m-%d %H}:00: "
                f"{stored[(election_id, dimension, key, hour)]} ≠ "
                f"{counted[(election_id, dimension, key, hour)]}"
            )
        if differing:
            raise CommandError(
                _("%(count)s tally rows differ from a recount.") % {"count": len(differing)}
            )
        quarantined = quarantined_count()
        if quarantined:
            raise CommandError(
                _(
                    "%(count)s reports could not be aggregated and are quarantined: "
                    "see the reports in the admin."
                )
                % {"count": quarantined}
            )
        self.stdout.write(_("Tallies equal a recount."))
