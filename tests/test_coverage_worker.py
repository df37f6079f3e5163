"""Coverage with a real Celery worker, Redis and PostgreSQL: an observer's check-in reaches
the stored figures through the queue, as on election day.

Run by `.ci/run` (PostgreSQL + Redis); skipped with a reason otherwise.
"""

import pytest

from reports.models import CoverageTally, StationCoverage
from reports.services.coverage import coverage_refresh, observer_check_in

from .services import celery_worker, require_real_services, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_check_in_reaches_the_figures_through_the_worker(election, stations, observer):
    require_real_services()
    coverage_refresh(election=election)
    with celery_worker():
        observer_check_in(observer=observer, station=stations[101])
        wait_until(lambda: StationCoverage.objects.get(number=101).state == "present")
    total = CoverageTally.objects.get(election=election, level="election")
    assert (total.stations, total.present) == (4, 1)
