"""A flood from one address is throttled while everyone else is still served.

Each test floods one entry point (citizen form, sign-in, API) from one address and, between
the flood's requests, serves other people from other addresses; they must get no error.
A flood that writes a new X-Forwarded-For on every request is still one address: directly,
the connection's address counts; behind the TLS proxy, the entry the proxy appended.
"""

import random
import uuid

import pytest
from django.test import Client

from observer.settings import proxied_client_address
from reports.models import Report, TokenScope

from . import api_helpers

pytestmark = pytest.mark.django_db

FLOOD = 15
LIMIT = 5
PROXY = "127.0.0.1"


def address() -> str:
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def forged() -> str:
    """What a flooder writes into X-Forwarded-For to pose as someone new each time."""
    return address()


@pytest.fixture(autouse=True)
def _low_limits(settings):
    settings.CITIZEN_REPORT_RATE = f"{LIMIT}/h"
    settings.SIGNIN_RATE = f"{LIMIT}/m"
    settings.API_THROTTLE_RATES = {"address": f"{LIMIT}/min", "token": "1000/min"}


@pytest.fixture
def behind_proxy(settings):
    """Settings as BEHIND_TLS_PROXY=1 gives them: every connection comes from the proxy."""
    settings.RATELIMIT_IP_META_KEY = proxied_client_address
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def test_a_citizen_flood_is_throttled_while_observers_and_other_citizens_report(
    report_form_data, observer_client
):
    flooder = address()
    statuses, others = [], []
    for _ in range(FLOOD):
        response = Client(REMOTE_ADDR=flooder, HTTP_X_FORWARDED_FOR=forged()).post(
            "/citizen/", report_form_data(), HTTP_ACCEPT="application/json"
        )
        statuses.append(response.status_code)
        citizen = Client(REMOTE_ADDR=address())
        others.append(citizen.post("/citizen/", report_form_data(), HTTP_ACCEPT="application/json"))
        others.append(
            observer_client.post(
                "/report/", report_form_data(), HTTP_ACCEPT="application/json", REMOTE_ADDR=flooder
            )
        )
    assert statuses == [201] * LIMIT + [429] * (FLOOD - LIMIT)
    assert [response.status_code for response in others] == [201] * (2 * FLOOD)
    assert Report.objects.count() == LIMIT + 2 * FLOOD


def test_an_api_flood_forging_x_forwarded_for_is_throttled_while_partners_read(stations):
    flooder = api_helpers.client()
    raw_token = api_helpers.token(TokenScope.PUBLIC_READ)
    statuses, others = [], []
    for number in range(FLOOD):
        response = flooder.get("/api/v1/categories/", HTTP_X_FORWARDED_FOR=forged())
        statuses.append(response.status_code)
        someone = api_helpers.client(raw_token if number % 2 else None)
        others.append(someone.get("/api/v1/stations/").status_code)
    assert statuses == [200] * LIMIT + [429] * (FLOOD - LIMIT)
    assert "Retry-After" in response.headers
    assert others == [200] * FLOOD


def test_a_flood_of_guessed_codes_is_throttled_while_an_observer_signs_in(observer_link):
    flooder = address()
    statuses = []
    for _ in range(FLOOD):
        guess = Client(REMOTE_ADDR=flooder, HTTP_X_FORWARDED_FOR=forged())
        statuses.append(guess.post("/signin/", {"code": uuid.uuid4().hex[:8]}).status_code)
    # Only failures count: exactly LIMIT wrong codes, then none is checked.
    assert statuses == [200] * LIMIT + [429] * (FLOOD - LIMIT)
    observer = Client(REMOTE_ADDR=address())
    response = observer.get(f"/signin/{observer_link.token}/")
    assert response.status_code == 302
    assert response.url == "/report/"


def test_behind_the_proxy_each_client_is_counted_apart_and_forged_entries_do_not_help(
    behind_proxy, report_form_data
):
    flooder, neighbour = address(), address()
    statuses, served = [], []
    for _ in range(FLOOD):
        flood = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{forged()}, {flooder}")
        response = flood.post("/citizen/", report_form_data(), HTTP_ACCEPT="application/json")
        statuses.append(response.status_code)
        served.append(
            Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address())
            .post("/citizen/", report_form_data(), HTTP_ACCEPT="application/json")
            .status_code
        )
    assert statuses == [201] * LIMIT + [429] * (FLOOD - LIMIT)
    assert served == [201] * FLOOD
    api = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=neighbour)
    assert [api.get("/api/v1/categories/").status_code for _ in range(LIMIT + 1)] == [
        200
    ] * LIMIT + [429]
