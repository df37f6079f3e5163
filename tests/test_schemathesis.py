"""Property-based tests of the API against its own OpenAPI schema (schemathesis).

Every operation gets a bounded number of generated requests (MAX_EXAMPLES); no response may
be a server error or contradict the schema (body, content type, headers).
"""

import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from reports.models import TokenScope

from .api_helpers import report_send, token, verify

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]


def served_schema() -> dict:
    """The OpenAPI document /api/schema/ serves, as JSON."""
    with translation.override("en"):
        document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(served_schema())
schema.app = get_wsgi_application()


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """As Django's test client does: requests must not close the test's open transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _data_and_room(stations, observer, moderator, settings):
    """A little data behind the API, room for many requests, and the test client's host."""
    settings.API_THROTTLE_RATES = {"address": "1000000/min", "token": "1000000/min"}
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    cache.clear()
    verify(report_send(stations[101], "C4", observer, description="Протокол", count=3), moderator)
    report_send(stations[102], "R4", observer, description="Угрозы")


@pytest.fixture
def tokens(db) -> dict[str, str]:
    return {scope: token(scope) for scope in TokenScope}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, tokens):
    scope = (
        TokenScope.SUBMIT
        if case.method == "POST" and "reports" in case.path
        else TokenScope.FULL_READ
    )
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[scope]}"}, checks=CHECKS)
