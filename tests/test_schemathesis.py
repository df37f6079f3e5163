"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis).

Every operation gets generated requests, valid ones and invalid ones (schemathesis's
positive and negative modes, its explicit examples and its coverage phase), sent in turn by
an anonymous caller and by a partner of each token scope (reports are sent with a submit
token). Then
a state machine follows the schema's links (an export started, then polled and
downloaded; a report sent, then read; a list, then one of its rows). No response may be a
server error or contradict the schema. Seeds are fixed, so CI generates the same requests
each time (a scenario's later steps follow what its earlier responses returned); the number
of cases run is printed. Budget: a few thousand cases, about three minutes.
"""

import copy
import json
from collections import Counter

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
)

from observer.celery import app as celery_app
from reports.models import TokenScope

from .api_helpers import report_send, token, verify

SEED = 14
MAX_EXAMPLES = 150  # per operation, in the fuzzing phase (explicit examples and coverage add more)
STATEFUL_EXAMPLES = 80
STATEFUL_STEPS = 6
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
CASES: Counter[str] = Counter()


def served_schema() -> dict:
    """The OpenAPI document /api/schema/ serves, as JSON."""
    with translation.override("en"):
        document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


def link(operation_id: str, **parameters: str) -> dict:
    return {"operationId": operation_id, "parameters": parameters}


def with_links(document: dict) -> dict:
    """The served schema plus OpenAPI links between operations, for the state machine."""
    document = copy.deepcopy(document)
    paths = document["paths"]
    created = "$response.body#/id"
    paths["/api/v1/exports/"]["post"]["responses"]["202"]["links"] = {
        "status": link("v1_exports_retrieve", id=created),
        "download": link("v1_exports_download_retrieve", id=created),
    }
    paths["/api/v1/reports/"]["post"]["responses"]["201"]["links"] = {
        "read": link("v1_reports_retrieve", id=created),
    }
    for name, key in [("incidents", "id"), ("reports", "id"), ("stations", "id"),
                      ("alerts", "id"), ("tallies", "id"), ("categories", "code")]:  # fmt: skip
        first = f"$response.body#/results/0/{key}"
        paths[f"/api/v1/{name}/"]["get"]["responses"]["200"]["links"] = {
            "row": link(f"v1_{name}_retrieve", **{key: first})
        }
    return document


schema = schemathesis.openapi.from_dict(with_links(served_schema()))
schema.app = get_wsgi_application()
schema.config.seed = SEED
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])


@pytest.fixture(scope="module", autouse=True)
def _cases_reported(request):
    """Print how many cases ran, per kind, once the module is done."""
    yield
    summary = ", ".join(f"{kind} {count}" for kind, count in CASES.items())
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nschemathesis: {sum(CASES.values())} cases ({summary}), no server error")
    celery_app.control.purge()  # the export jobs they started


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
def callers(db) -> dict[str, dict[str, str]]:
    """Headers of the callers who take turns: anonymous, then a partner of each token scope."""
    partners = {scope: {"Authorization": f"Bearer {token(scope)}"} for scope in TokenScope}
    return {"anonymous": {}, **partners}


def headers_for(case, callers: dict, turn: int) -> dict[str, str]:
    """Report submissions need a submit token; other operations take callers in turn."""
    if case.method == "POST" and "reports" in case.path:
        return callers[TokenScope.SUBMIT]
    return list(callers.values())[turn % len(callers)]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, callers):
    CASES["stateless"] += 1
    headers = headers_for(case, callers, CASES["stateless"])
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_api_follows_its_links_without_a_server_error(callers):
    class Workflow(schema.as_state_machine()):
        """Each scenario starts from the same rows (a savepoint) and the same caller."""

        def setup(self):
            self.savepoint = transaction.savepoint()
            self.turn = 0
            cache.clear()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def call(self, case, **kwargs):
            CASES["stateful"] += 1
            self.turn += 1
            return case.call(headers=headers_for(case, callers, self.turn), **kwargs)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
