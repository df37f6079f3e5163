"""Reports with a chosen receipt time, for the aggregation, tally and alert tests.

`report_submit` stamps the server's clock; clustering and alert rules are about time
windows, so these tests write reports as received at a given moment and then run the
aggregation services on them, as the worker would.
"""

import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

from reports.domain.clustering import tallies_compute, tallies_read
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


class WebhookReceiver(BaseHTTPRequestHandler):
    """A coordinators' webhook endpoint: keeps every JSON body it is sent."""

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.server.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def webhook_receiving() -> Iterator[HTTPServer]:
    """A real HTTP server on a free local port; `.received` lists the bodies posted."""
    server = HTTPServer(("127.0.0.1", 0), WebhookReceiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
