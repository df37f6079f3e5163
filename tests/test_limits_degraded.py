"""While Redis is down, reports keep flowing but the anonymous doors keep a floor of
protection (limits counted per process), and coordinators are told that limits are degraded."""

import pytest
from django.test import Client

from reports.models import Alert, Report

pytestmark = pytest.mark.django_db

NOWHERE = "redis://127.0.0.1:9/0"  # nothing listens there


@pytest.fixture
def redis_down(settings):
    down = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": NOWHERE,
            "OPTIONS": down,
        },
        "ratelimit": {
            "BACKEND": "reports.limits.FailoverRedisCache",
            "LOCATION": NOWHERE,
            "OPTIONS": down,
        },
    }
    settings.RATELIMIT_USE_CACHE = "ratelimit"
    settings.CITIZEN_REPORT_RATE = "2/h"


@pytest.mark.usefixtures("redis_down")
def test_a_citizen_flood_meets_a_limit_while_redis_is_down(
    stations, report_form_data, observer_client
):
    citizen = Client(REMOTE_ADDR="203.0.113.7")
    answers = [citizen.post("/citizen/", report_form_data()).status_code for _ in range(4)]

    assert answers == [302, 302, 429, 429]
    assert Report.objects.count() == 2
    assert (
        Client(REMOTE_ADDR="198.51.100.9").post("/citizen/", report_form_data()).status_code == 302
    )
    assert observer_client.post("/report/", report_form_data()).status_code == 302


@pytest.mark.usefixtures("redis_down")
def test_coordinators_of_every_okrug_hear_that_limits_are_degraded(stations, report_form_data):
    for _ in range(3):
        Client(REMOTE_ADDR="203.0.113.8").post("/citizen/", report_form_data())

    alerts = Alert.objects.filter(rule=Alert.Rule.LIMITS_DEGRADED)
    okrugs = {station.okrug_id for station in stations.values()}
    assert set(alerts.values_list("okrug_id", flat=True)) == okrugs
    assert alerts.count() == len(okrugs)  # once, not once per request
    assert "Redis" in alerts.first().message()
