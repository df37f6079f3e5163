"""A simulated election morning for the coverage tests: a clock the test moves, and the
messages observers send at those times, written as the services write them.

    at(election, "08:30")        an aware time on election day, in the election's zone
    turnout_make(...)            a turnout count received at a given time
    sweep(election, now)         what the worker's periodic run does at `now`
    alerts_seen()                [(rule, station number, local "HH:MM" of `at`)], sorted
    tasks_in_process             fixture: Celery runs tasks in this process even when
                                 REDIS_URL is set (the real Celery, without a worker)
"""

import datetime as dt
import uuid

import pytest

from observer.celery import app as celery_app
from reports.models import Alert, Election, Observer, Station, TurnoutCount
from reports.services.coverage import coverage_refresh
from reports.services.protocols import TurnoutInput, turnout_count_submit


def at(election: Election, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(election.date, dt.time.fromisoformat(hhmm), tzinfo=election.tz)


def turnout_make(
    *, observer: Observer, station: Station, checkpoint: str, received_at: dt.datetime
) -> TurnoutCount:
    count, _created = turnout_count_submit(
        data=TurnoutInput(uuid=uuid.uuid4(), station=station, checkpoint=checkpoint, own_tally=1),
        observer=observer,
    )
    TurnoutCount.objects.filter(pk=count.pk).update(received_at=received_at)
    return count


def sweep(election: Election, now: dt.datetime) -> int:
    return coverage_refresh(election=election, now=now)


def alerts_seen() -> list[tuple[str, int, str]]:
    alerts = Alert.objects.select_related("station", "election")
    return sorted(
        (alert.rule, alert.station.number, alert.at.astimezone(alert.election.tz).strftime("%H:%M"))
        for alert in alerts
    )


@pytest.fixture
def tasks_in_process():
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager
