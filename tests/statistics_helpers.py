"""Official results for statistics tests."""

from reports.domain.protocol_checks import template_load
from reports.models import Election, OfficialResult
from reports.services.protocols import results_aggregate


def official_results_with_full_turnout(election: Election) -> None:
    """Thirty stations of one TIK, uik 1–30, and uik 31 at 100 % turnout (one flag)."""
    election.protocol_template = template_load("federal-12", ["Иванов", "Петров"])
    election.save()
    rows = []
    for uik in range(1, 31):
        issued = 400 + 7 * uik
        invalid = 5
        first = issued * 6 // 10
        rows.append((uik, 1000, issued, invalid, first, issued - invalid - first))
    rows.append((31, 500, 500, 0, 300, 200))
    OfficialResult.objects.bulk_create(
        OfficialResult(
            election=election, region="Город N", tik="ТИК 1", uik=uik,
            lines={"voters": voters, "received": issued, "early": 0, "inside": issued - 10,
                   "outside": 10, "cancelled": 0, "portable": 10, "stationary": issued - 10,
                   "invalid": invalid, "valid": issued - invalid, "lost": 0, "unaccounted": 0,
                   "c1": first, "c2": second},
        )
        for uik, voters, issued, invalid, first, second in rows
    )  # fmt: skip
    results_aggregate(election=election)
