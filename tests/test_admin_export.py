"""The panel's "export selected" actions write the published record shapes: the rows of an
incident or report export validate against the JSON Schema the API serves, in CSV too, and
a staff member limited to some okrugs exports only what they may see."""

import csv
import io
import json

import pytest

from reports.models import Incident, Report

from .api_helpers import report_send, verify
from .moderation_fixtures import client_for, staff_user
from .test_exports import assert_valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports_sent(stations, observer, other_observer, moderator) -> list[Report]:
    verified = report_send(stations[101], "V1", observer, description="Вброс", count=30)
    verify(verified, moderator)
    return [verified, report_send(stations[201], "C4", other_observer, description="Протокол")]


def export(client, model: str, action: str, ids: list[int]):
    """Run an action on the rows `ids`, from the list of every row (all incidents' queue)."""
    url = f"/admin/reports/{model}/" + ("?queue=all" if model == "incident" else "")
    response = client.post(url, {"action": action, "_selected_action": ids})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="{model}s-')
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(("model", "shape"), [("incident", "incident"), ("report", "report-full")])
def test_exported_json_rows_validate_against_the_published_schema(reports_sent, model, shape):
    rows = Incident.objects.all() if model == "incident" else Report.objects.all()
    coordinator = client_for(staff_user("coordinator", "kira"))

    items = json.loads(
        export(coordinator, model, "export_records_json", list(rows.values_list("pk", flat=True)))
    )

    assert len(items) == 2
    assert_valid(shape, items)


def test_exported_csv_rows_are_the_same_records(reports_sent):
    coordinator = client_for(staff_user("coordinator", "kira"))
    ids = [report.pk for report in reports_sent]

    rows = list(
        csv.DictReader(
            io.StringIO(export(coordinator, "report", "export_records_csv", ids).decode())
        )
    )
    items = json.loads(export(coordinator, "report", "export_records_json", ids))

    assert [row["id"] for row in rows] == [str(item["id"]) for item in items]
    assert [row["description"] for row in rows] == [item["description"] for item in items]
    assert "phone" not in rows[0] and "full_name" not in rows[0]


def test_a_limited_moderator_exports_only_their_okrugs(reports_sent, stations):
    moderator = client_for(staff_user("moderator", "sao", okrugs=(stations[201].okrug,)))
    ids = [report.pk for report in reports_sent]

    items = json.loads(export(moderator, "report", "export_records_json", ids))

    assert [item["id"] for item in items] == [reports_sent[1].pk]
