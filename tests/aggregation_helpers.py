"""Reports with a chosen receipt time, for the aggregation, tally and alert tests.

`report_submit` stamps the server's clock; clustering and alert rules are about time
windows, so these tests write reports as received at a given moment and then run the
aggregation services on them, as the worker would.
"""

import datetime as dt
import uuid

from reports.aggregation import tallies_compute, tallies_read
from reports.models import Category, Observer, Report, ReporterRole, Station, Trust
from reports.services.observers import observer_create

MINUTE = dt.timedelta(minutes=1)


def report_make(
    *,
    station: Station,
    category: Category,
    at: dt.datetime,
    observer: Observer | None = None,
    **fields,
) -> Report:
    """A report as `report_submit` stores it, but received at `at`; not yet aggregated."""
    return Report.objects.create(
        uuid=uuid.uuid4(),
        election_id=station.election_id,
        station=station,
        category=category,
        observer=observer,
        reporter_role=observer.legal_status if observer else ReporterRole.CITIZEN,
        trust=observer.trust if observer else Trust.CITIZEN,
        channel="web" if observer else "citizen",
        received_at=at,
        content_hash="0" * 64,
        **fields,
    )


def observer_make(station: Station, pseudonym: str, trust: int = Trust.NEW) -> Observer:
    return observer_create(
        election=station.election,
        pseudonym=pseudonym,
        legal_status="observer",
        trust=trust,
        stations=[station],
    )


def assert_tallies_exact(election_id: int | None = None) -> None:
    """The incremental tallies equal a count from scratch."""
    assert tallies_read(election_id=election_id) == tallies_compute(election_id=election_id)
