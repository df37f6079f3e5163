"""A report carries its reporter's role and trust; never more than the sender is."""

import uuid

from reports.models import ReporterRole, Trust
from reports.services.submission import ReportInput, report_submit


def submit(station, category, *, observer=None, channel="web"):
    data = ReportInput(uuid=uuid.uuid4(), station=station, category=category)
    return report_submit(data=data, observer=observer, channel=channel)[0]


def test_observer_report_carries_their_legal_status_and_trust(stations, categories, observer):
    report = submit(stations[101], categories["V1"], observer=observer)
    assert (report.reporter_role, report.trust) == (observer.legal_status, observer.trust)


def test_anonymous_report_is_a_citizen_with_the_lowest_trust(stations, categories):
    report = submit(stations[101], categories["V1"], channel="citizen")
    assert (report.reporter_role, report.trust) == (ReporterRole.CITIZEN, Trust.CITIZEN)


def test_report_raised_by_the_system_is_marked_as_such(stations, categories):
    report = submit(stations[101], categories["T2"], channel="system")
    assert report.reporter_role == ReporterRole.SYSTEM
