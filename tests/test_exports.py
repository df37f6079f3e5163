"""Exported records: each shape validates against its published JSON Schema, the public
dataset carries no reporter identity, and result figures wait for polls to close."""

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker

from reports.domain import records
from reports.models import (
    Alert,
    Category,
    ExportFormat,
    ExportScope,
    Incident,
    Report,
    Station,
    Tally,
    TokenScope,
)

from .api_helpers import client, report_send, token, verify

IDENTITY_VALUES = ("Сова", "Ёж", "Иванова", "+7 900")

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def is_datetime(value) -> bool:
    return not isinstance(value, str) or dt.datetime.fromisoformat(value).tzinfo is not None


def validator(shape: str) -> Draft202012Validator:
    schema = client().get(f"/api/v1/schemas/{shape}.json").json()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMATS)


def assert_valid(shape: str, items: list[dict]) -> None:
    check = validator(shape)
    assert items, f"no {shape} records to check"
    for item in items:
        errors = [error.message for error in check.iter_errors(item)]
        assert not errors, (item, errors)


@pytest.fixture(autouse=True, params=[False, True], ids=["debug-off", "debug-on"])
def _debug(request, settings):
    """Every export test runs with DEBUG off and on (make run's default): with it on, Django
    wraps cursors in its query-logging wrapper, whose copy() once refused parameters."""
    settings.DEBUG = request.param


@pytest.fixture
def dataset(stations, observer, other_observer, moderator):
    """Verified and unverified reports, one threat (which raises an alert), tallies."""
    verify(report_send(stations[101], "V1", observer, description="Вброс", count=30), moderator)
    verify(
        report_send(stations[201], "C4", other_observer, description="Протокол", count=512),
        moderator,
    )
    report_send(stations[102], "R4", observer, description="Угрозы")
    report_send(stations[3601], "V3", observer, description="-списки не показаны")
    return Report.objects.all()


QUERYSETS = {
    "incident": lambda: Incident.objects.all(),
    "report-public": lambda: records.embargo_annotate(
        records.report_rows(ExportScope.PUBLIC), records.PublicReportRecord
    ),
    "report-full": lambda: records.report_rows(ExportScope.FULL),
    "station": lambda: Station.objects.all(),
    "category": lambda: Category.objects.all(),
    "tally": lambda: Tally.objects.all(),
    "alert": lambda: Alert.objects.all(),
}


@pytest.mark.parametrize("shape", list(records.SHAPES))
def test_every_record_of_every_shape_validates_against_its_schema(dataset, shape):
    record = records.SHAPES[shape]

    assert_valid(shape, list(records.records(record, QUERYSETS[shape]())))


@pytest.mark.parametrize(
    ("path", "shape", "scope"),
    [
        ("/api/v1/reports/", "report-public", TokenScope.PUBLIC_READ),
        ("/api/v1/reports/", "report-full", TokenScope.FULL_READ),
        ("/api/v1/incidents/", "incident", TokenScope.FULL_READ),
        ("/api/v1/stations/", "station", TokenScope.PUBLIC_READ),
        ("/api/v1/categories/", "category", TokenScope.PUBLIC_READ),
        ("/api/v1/tallies/", "tally", TokenScope.FULL_READ),
        ("/api/v1/alerts/", "alert", TokenScope.FULL_READ),
    ],
)
def test_every_api_record_validates_against_its_schema(dataset, path, shape, scope):
    body = client(token(scope)).get(path, {"page_size": 1000}).json()

    assert_valid(shape, body["results"])


def test_public_schema_refuses_a_record_with_a_pseudonym(dataset):
    public = records.embargo_annotate(
        records.report_rows(ExportScope.PUBLIC), records.PublicReportRecord
    )
    (item, *_rest) = records.records(records.PublicReportRecord, public)

    assert not validator("report-public").is_valid({**item, "pseudonym": "Сова"})


def export_file(shape: str, fmt: str, scope: str, filters: dict | None = None) -> bytes:
    """Run the bulk writer as the export job does and return the file's bytes."""
    from reports.services.exports import export_dataset

    record, rows = export_dataset(shape=shape, scope=scope, filters=filters or {})
    out = io.BytesIO()
    records.records_write(record, rows, fmt, out)
    return out.getvalue()


def parse(content: bytes, fmt: str) -> list[dict]:
    if fmt == ExportFormat.NDJSON_GZ:
        return [json.loads(line) for line in content.splitlines()]
    if fmt == ExportFormat.JSON:
        return json.loads(content)
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.mark.parametrize("fmt", [ExportFormat.NDJSON_GZ, ExportFormat.JSON])
@pytest.mark.parametrize(("shape", "scope", "schema"), [
    ("reports", ExportScope.PUBLIC, "report-public"),
    ("reports", ExportScope.FULL, "report-full"),
    ("incidents", ExportScope.PUBLIC, "incident"),
])  # fmt: skip
def test_every_bulk_exported_record_validates(dataset, fmt, shape, scope, schema):
    items = parse(export_file(shape, fmt, scope), fmt)

    assert_valid(schema, items)


def test_csv_export_has_the_shapes_columns_and_values(dataset):
    lines = export_file("reports", ExportFormat.NDJSON_GZ, ExportScope.FULL)
    rows = parse(export_file("reports", ExportFormat.CSV, ExportScope.FULL), ExportFormat.CSV)

    items = parse(lines, ExportFormat.NDJSON_GZ)
    assert list(rows[0]) == list(records.FullReportRecord().fields)
    assert [row["id"] for row in rows] == [str(item["id"]) for item in items]
    assert [row["pseudonym"] for row in rows] == [item["pseudonym"] or "" for item in items]


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_public_export_never_contains_a_reporter_identity(dataset, fmt):
    content = export_file("reports", fmt, ExportScope.PUBLIC)

    text = content.decode()
    assert all(value not in text for value in IDENTITY_VALUES)
    assert "pseudonym" not in text and "uuid" not in text
    assert {int(item["id"]) for item in parse(content, fmt)} == {
        report.pk for report in records.report_rows(ExportScope.PUBLIC)
    }


def test_public_export_has_verified_incidents_only(dataset):
    items = parse(export_file("incidents", ExportFormat.JSON, ExportScope.PUBLIC), "json")

    assert {item["status"] for item in items} == {"verified"}
    assert len(items) == Incident.objects.filter(status="verified").count() == 2


def test_export_filters_are_the_apis(dataset):
    items = parse(
        export_file("reports", ExportFormat.JSON, ExportScope.FULL, {"station": "101"}), "json"
    )

    assert {item["station_number"] for item in items} == {101}


def polls(election, *, closed: bool) -> None:
    """Move election day so that polls closed yesterday, or close tomorrow."""
    election.date = timezone.localdate() + dt.timedelta(days=-1 if closed else 1)
    election.save()


@pytest.mark.parametrize("fmt", [ExportFormat.JSON, ExportFormat.CSV])
def test_result_figures_are_held_back_in_public_exports_until_polls_close(election, dataset, fmt):
    polls(election, closed=False)
    before = {item["category"]: item for item in parse(export_file("reports", fmt, "public"), fmt)}
    polls(election, closed=True)
    after = {item["category"]: item for item in parse(export_file("reports", fmt, "public"), fmt)}

    assert before["C4"]["count"] in (None, "") and before["C4"]["description"] in (None, "")
    assert str(after["C4"]["count"]) == "512" and after["C4"]["description"] == "Протокол"
    assert str(before["V1"]["count"]) == "30"  # voting-phase reports carry no results


def test_result_figures_are_held_back_in_the_public_api_until_polls_close(election, dataset):
    c4 = Report.objects.get(category="C4")
    polls(election, closed=False)
    public_before = client().get(f"/api/v1/reports/{c4.pk}/").json()
    full_before = client(token(TokenScope.FULL_READ)).get(f"/api/v1/reports/{c4.pk}/").json()
    polls(election, closed=True)
    public_after = client().get(f"/api/v1/reports/{c4.pk}/").json()

    assert (public_before["count"], public_before["description"]) == (None, None)
    assert full_before["count"] == 512
    assert (public_after["count"], public_after["description"]) == (512, "Протокол")


def test_polls_close_in_the_elections_own_time_zone(election):
    election.date = dt.date(2013, 9, 8)
    election.time_zone = "Asia/Yakutsk"  # UTC+10 in 2013: polls closed at 10:00 UTC
    election.save()
    before, after = (
        dt.datetime(2013, 9, 8, 9, 59, tzinfo=dt.UTC),
        dt.datetime(2013, 9, 8, 10, tzinfo=dt.UTC),
    )

    assert election.pk not in records.elections_polls_closed(before)
    assert election.pk in records.elections_polls_closed(after)


def test_admin_export_response_streams_the_same_records(dataset):
    response = records.records_response(
        records.IncidentRecord, Incident.objects.all(), ExportFormat.JSON, filename="x.json"
    )

    items = json.loads(b"".join(response.streaming_content))
    assert_valid("incident", items)
    assert response["Content-Disposition"] == 'attachment; filename="x.json"'


@pytest.mark.integration
@pytest.mark.parametrize("fmt", [ExportFormat.NDJSON_GZ, ExportFormat.CSV])
def test_postgresql_copy_writes_what_the_serializer_writes(dataset, election, fmt):
    if connection.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's: run with DATABASE_URL=postgres://…")
    polls(election, closed=False)  # with embargoed fields, too
    record = records.PublicReportRecord
    rows = records.embargo_annotate(records.report_rows("full"), record)

    copied = b"".join(records._copy_lines(record, rows.order_by("id"), fmt))
    serialised = b"".join(records._python_lines(record, rows.order_by("id"), fmt))

    assert normalised(parse(copied, fmt)) == normalised(parse(serialised, fmt))


def normalised(items: list[dict]) -> list[dict]:
    """Same values: times compared as instants (PostgreSQL writes +00:00, DRF writes Z)."""

    def value(text):
        if isinstance(text, str) and len(text) > 18 and text[10:11] == "T":
            return dt.datetime.fromisoformat(text)
        return text

    return [{key: value(item[key]) for key in item} for item in items]


def test_shapes_without_an_id_are_written_in_their_own_order(categories):
    response = records.records_response(
        records.CategoryRecord, Category.objects.all(), ExportFormat.CSV, filename="c.csv"
    )

    rows = parse(b"".join(response.streaming_content), ExportFormat.CSV)
    assert [row["code"] for row in rows] == sorted(categories)


def test_csv_text_a_spreadsheet_would_run_as_a_formula_is_defused(stations, observer, moderator):
    verify(report_send(stations[101], "V1", observer, description='=HYPERLINK("x")'), moderator)

    rows = parse(export_file("reports", ExportFormat.CSV, ExportScope.PUBLIC), ExportFormat.CSV)
    items = parse(export_file("reports", ExportFormat.JSON, ExportScope.PUBLIC), "json")

    assert rows[0]["description"] == '\'=HYPERLINK("x")'
    assert items[0]["description"] == '=HYPERLINK("x")'  # JSON keeps the text as sent
