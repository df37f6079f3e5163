"""Exported record shapes, defined once, and the writer that streams them.

Each shape is one read-only serializer below (SHAPES). The API answers with it; the bulk
export and the admin's "export selected" action write it with `records_write`; its JSON
Schema (/api/v1/schemas/<shape>.json) is generated from it by drf-spectacular. On
PostgreSQL the bulk writer compiles the same fields into one `COPY (SELECT …) TO STDOUT`, so
the database renders the JSON or CSV and a million records stream with flat memory;
elsewhere it serialises instances fetched with `.iterator()`.

The public dataset (DOMAIN.md §8): verified incidents only; reporters as a role, never a
pseudonym, contact or id; result figures withheld until polls close in the election's zone.
"""

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from itertools import islice
from typing import BinaryIO

from django.db import connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.http import StreamingHttpResponse
from django.utils import timezone, translation
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from reports.models import (
    Alert,
    Channel,
    Election,
    ExportFormat,
    ExportScope,
    Incident,
    Phase,
    Report,
    ReporterRole,
    ReviewStatus,
    Severity,
    Tally,
    Trust,
)

CHUNK_SIZE = 2000
# Records joined into one piece of output: few large writes instead of many small ones.
BATCH_ROWS = 1000
# Phases whose reports may carry protocol or result figures (in the count or the text).
RESULT_PHASES = (Phase.COUNTING, Phase.TABULATION)


def _datetime(**kwargs) -> serializers.DateTimeField:
    """Exported times are UTC, whatever the site's zone, so every path writes the same."""
    return serializers.DateTimeField(default_timezone=dt.UTC, read_only=True, **kwargs)


class Record(serializers.Serializer):
    """A flat, read-only record; every field's source is a path of model fields."""

    select_related: tuple[str, ...] = ()
    # Fields that carry result figures, and the rows in which they do (None: no such rows).
    embargoed_fields: tuple[str, ...] = ()
    carries_results: Q | None = None
    # Records are written in the order of this field (unique).
    ordering_field = "id"

    def to_representation(self, instance) -> dict:
        data = super().to_representation(instance)
        if getattr(instance, "results_embargoed", False):
            for name in self.embargoed_fields:
                data[name] = None
        return data


class RecordSchema(OpenApiSerializerExtension):
    """Records are closed: a field not in the shape is a schema violation, not a surprise."""

    target_class = Record
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


class CategoryRecord(Record):
    """An incident category, with its code in the typology of Golos where one exists."""

    ordering_field = "code"
    code = serializers.CharField(read_only=True)
    phase = serializers.ChoiceField(choices=Phase.choices, read_only=True)
    severity = serializers.ChoiceField(choices=Severity.choices, read_only=True)
    golos_code = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    name_ru = serializers.CharField(read_only=True)
    hint_en = serializers.CharField(read_only=True)
    hint_ru = serializers.CharField(read_only=True)
    discouraged = serializers.BooleanField(read_only=True)
    system_only = serializers.BooleanField(read_only=True)


class StationRecord(Record):
    """A polling station (UIK) and where it belongs."""

    select_related = ("okrug", "tik")

    id = serializers.IntegerField(read_only=True)
    election = serializers.IntegerField(source="election_id", read_only=True)
    number = serializers.IntegerField(read_only=True)
    okrug = serializers.CharField(source="okrug.name", read_only=True)
    tik = serializers.CharField(source="tik.name", read_only=True)
    is_temporary = serializers.BooleanField(read_only=True)
    has_scanner = serializers.BooleanField(read_only=True)
    address = serializers.CharField(read_only=True)


class StationEventRecord(Record):
    """The fields first of incidents and reports: what happened, and where."""

    select_related = ("station__okrug", "station__tik", "category")

    id = serializers.IntegerField(read_only=True)
    election = serializers.IntegerField(source="election_id", read_only=True)
    station_number = serializers.IntegerField(source="station.number", read_only=True)
    tik = serializers.CharField(source="station.tik.name", read_only=True)
    okrug = serializers.CharField(source="station.okrug.name", read_only=True)
    category = serializers.CharField(source="category_id", read_only=True)
    phase = serializers.ChoiceField(source="category.phase", choices=Phase.choices, read_only=True)


class IncidentRecord(StationEventRecord):
    """One real event at one station, resting on one or more reports."""

    severity = serializers.ChoiceField(choices=Severity.choices, read_only=True)
    status = serializers.ChoiceField(choices=ReviewStatus.choices, read_only=True)
    confidence = serializers.FloatField(read_only=True)
    report_count = serializers.IntegerField(read_only=True)
    reporter_count = serializers.IntegerField(read_only=True)
    first_at = _datetime()
    last_at = _datetime()
    needs_mobile_group = serializers.BooleanField(read_only=True)
    needs_lawyer = serializers.BooleanField(read_only=True)
    updated_at = _datetime()


class PublicReportRecord(StationEventRecord):
    """A report as anyone may see it: the reporter is a role, nothing that links reports,
    and the description without phone numbers, e-mail addresses or the reporter's name."""

    embargoed_fields = ("count", "description")
    carries_results = Q(category__phase__in=RESULT_PHASES)

    reporter_role = serializers.ChoiceField(choices=ReporterRole.choices, read_only=True)
    occurred_at = _datetime(allow_null=True)
    received_at = _datetime()
    description = serializers.CharField(
        source="public_description", read_only=True, allow_null=True
    )
    count = serializers.IntegerField(read_only=True, allow_null=True)
    complaint_filed = serializers.BooleanField(read_only=True)
    police_called = serializers.BooleanField(read_only=True)
    violation_stopped = serializers.BooleanField(read_only=True)
    status = serializers.ChoiceField(choices=ReviewStatus.choices, read_only=True)
    incident = serializers.IntegerField(source="incident_id", read_only=True, allow_null=True)
    updated_at = _datetime()


class FullReportRecord(PublicReportRecord):
    """A report for trusted partners and staff: adds the pseudonym, never contacts."""

    select_related = (*PublicReportRecord.select_related, "observer")

    uuid = serializers.UUIDField(read_only=True)
    pseudonym = serializers.CharField(source="observer.pseudonym", read_only=True, allow_null=True)
    trust = serializers.ChoiceField(choices=Trust.choices, read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    needs_mobile_group = serializers.BooleanField(read_only=True)
    needs_lawyer = serializers.BooleanField(read_only=True)

    def get_fields(self) -> dict:
        """The public shape's fields, but the description as the reporter wrote it."""
        fields = super().get_fields()
        fields["description"] = serializers.CharField(read_only=True, allow_null=True)
        return fields


class TallyRecord(Record):
    """How many reports fall under one key (dimension, key) in one clock hour (UTC)."""

    id = serializers.IntegerField(read_only=True)
    election = serializers.IntegerField(source="election_id", read_only=True)
    dimension = serializers.ChoiceField(choices=Tally.Dimension.choices, read_only=True)
    key = serializers.CharField(read_only=True)
    hour = _datetime()
    count = serializers.IntegerField(read_only=True)


class AlertRecord(Record):
    """An alert raised for coordinators; it never names a reporter."""

    select_related = ("okrug", "tik", "station")

    id = serializers.IntegerField(read_only=True)
    election = serializers.IntegerField(source="election_id", read_only=True)
    rule = serializers.ChoiceField(choices=Alert.Rule.choices, read_only=True)
    message = serializers.CharField(read_only=True)
    okrug = serializers.CharField(source="okrug.name", read_only=True)
    tik = serializers.CharField(source="tik.name", read_only=True, allow_null=True)
    station_number = serializers.IntegerField(
        source="station.number", read_only=True, allow_null=True
    )
    incident = serializers.IntegerField(source="incident_id", read_only=True, allow_null=True)
    count = serializers.IntegerField(read_only=True)
    at = _datetime()
    raised_at = _datetime()


class AuditEntryRecord(Record):
    """One entry of the audit log (staff only): who did what to which object, before and
    after. Not a public shape: the panel's audit exports write it."""

    select_related = ("actor",)

    id = serializers.IntegerField(read_only=True)
    at = _datetime()
    actor = serializers.CharField(source="actor.username", read_only=True, allow_null=True)
    action = serializers.CharField(read_only=True)
    object_type = serializers.CharField(read_only=True)
    object_id = serializers.CharField(read_only=True)
    before = serializers.JSONField(read_only=True)
    after = serializers.JSONField(read_only=True)
    note = serializers.CharField(read_only=True)


SHAPES: dict[str, type[Record]] = {
    "incident": IncidentRecord,
    "report-public": PublicReportRecord,
    "report-full": FullReportRecord,
    "station": StationRecord,
    "category": CategoryRecord,
    "tally": TallyRecord,
    "alert": AlertRecord,
}


# The datasets: which rows a scope sees, and in which shape.


INCIDENT_PUBLIC = Q(status=ReviewStatus.VERIFIED)
REPORT_PUBLIC = Q(incident__status=ReviewStatus.VERIFIED) & ~Q(status=ReviewStatus.REJECTED)
ONCE_PUBLIC = Q(published_at__isnull=False)


def incident_rows(scope: str) -> QuerySet[Incident]:
    incidents = Incident.objects.all()
    if scope == ExportScope.FULL:
        return incidents
    return incidents.filter(INCIDENT_PUBLIC)


def report_rows(scope: str) -> QuerySet[Report]:
    reports = Report.objects.all()
    if scope == ExportScope.FULL:
        return reports
    return reports.filter(REPORT_PUBLIC)


def incident_rows_once_visible(scope: str) -> QuerySet[Incident]:
    """The incidents a reader of this scope sees now or may have seen before: for the
    public, the verified ones and those once public (Incident.published_at)."""
    if scope == ExportScope.FULL:
        return Incident.objects.all()
    return Incident.objects.filter(INCIDENT_PUBLIC | ONCE_PUBLIC)


def report_rows_once_visible(scope: str) -> QuerySet[Report]:
    """As incident_rows_once_visible, for reports."""
    if scope == ExportScope.FULL:
        return Report.objects.all()
    return Report.objects.filter(REPORT_PUBLIC | ONCE_PUBLIC)


def report_record(scope: str) -> type[Record]:
    return FullReportRecord if scope == ExportScope.FULL else PublicReportRecord


def elections_polls_closed(now: dt.datetime | None = None) -> list[int]:
    """Ids of the elections whose polls have closed (in each election's own zone)."""
    now = now or timezone.now()
    elections = Election.objects.only("id", "date", "time_zone", "polls_close")
    return [election.pk for election in elections if election.polls_close_at() <= now]


def embargo_annotate(
    queryset: QuerySet, record: type[Record], *, now: dt.datetime | None = None
) -> QuerySet:
    """Mark with `results_embargoed` the rows whose result fields must be withheld now.

    Apply for public readers only: trusted partners and staff see results at once.
    """
    if record.carries_results is None:
        return queryset
    held = record.carries_results & ~Q(election_id__in=elections_polls_closed(now))
    return queryset.annotate(
        results_embargoed=Case(When(held, then=Value(True)), default=Value(False))
    )


# Writing records: JSON lines, a JSON array, or CSV, to a binary file.


def records(record: type[Record], queryset: QuerySet) -> Iterator[dict]:
    """The records of `queryset`, fetched in chunks: memory stays flat."""
    serializer = record()
    rows = queryset.select_related(*record.select_related).iterator(chunk_size=CHUNK_SIZE)
    for instance in rows:
        yield serializer.to_representation(instance)


def records_encode(
    record: type[Record],
    queryset: QuerySet,
    fmt: str,
    *,
    on_progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
) -> Iterator[bytes]:
    """The file of the records of `queryset`, in pieces, in `fmt` (an ExportFormat).

    Gzip, if wanted, is the consumer's business. `on_progress(count)` is called every
    `progress_every` records and once at the end.
    """
    if connection.vendor == "postgresql":
        lines = _copy_lines(record, queryset, fmt)
    else:
        ordering = "__".join(record().fields[record.ordering_field].source_attrs)
        lines = _python_lines(record, queryset.order_by(ordering), fmt)
    if fmt == ExportFormat.CSV:
        yield bytes(next(lines))  # the header
    count = 0
    for batch in _batches(lines, BATCH_ROWS):
        if fmt == ExportFormat.JSON:
            yield (b",\n" if count else b"[\n") + b",\n".join(line[:-1] for line in batch)
        else:
            yield b"".join(batch)
        before, count = count, count + len(batch)
        if on_progress is not None and count // progress_every > before // progress_every:
            on_progress(count)
    if fmt == ExportFormat.JSON:
        yield b"\n]\n" if count else b"[]\n"
    if on_progress is not None:
        on_progress(count)


def _batches(items: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(items, size)):
        yield batch


def records_write(
    record: type[Record],
    queryset: QuerySet,
    fmt: str,
    out: BinaryIO,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Write the records of `queryset` to the binary file `out`; return how many."""
    written = 0

    def track(count: int) -> None:
        nonlocal written
        written = count
        if on_progress is not None:
            on_progress(count)

    for piece in records_encode(record, queryset, fmt, on_progress=track):
        out.write(piece)
    return written


def records_response(
    record: type[Record], queryset: QuerySet, fmt: str, *, filename: str
) -> StreamingHttpResponse:
    """A download of the records of `queryset`, streamed: for the admin's export actions."""
    content_type = {ExportFormat.CSV: "text/csv", ExportFormat.JSON: "application/json"}
    response = StreamingHttpResponse(
        records_encode(record, queryset, fmt), content_type=content_type[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _python_lines(record: type[Record], queryset: QuerySet, fmt: str) -> Iterator[bytes]:
    if fmt != ExportFormat.CSV:
        for item in records(record, queryset):
            yield json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(values) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue().encode()

    names = list(record().fields)
    yield line(names)
    for item in records(record, queryset):
        yield line(_csv_value(item[name]) for name in names)


# A spreadsheet runs a cell that starts with one of these as a formula: such text is
# written after an apostrophe, which spreadsheets do not show (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)


def _copy_lines(record: type[Record], queryset: QuerySet, fmt: str) -> Iterator[memoryview]:
    """Each record as rendered by PostgreSQL, one COPY row at a time (one snapshot).

    The planner does not count the cost of rendering JSON, so it keeps plans serial; made
    to see parallel workers as free, it lets them render rows side by side (about twice
    COPY's own text rate on two cores in docs/benchmarks.md).
    """
    statement, params = copy_statement(record, queryset, fmt)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL parallel_setup_cost = 0")
        cursor.execute("SET LOCAL parallel_tuple_cost = 0")
        # psycopg's own cursor: with DEBUG on, Django's wrapper takes no COPY parameters.
        with connection.wrap_database_errors, cursor.cursor.copy(statement, params) as copy:
            # Each row is a view on its own buffer: kept, not copied, until joined.
            while row := copy.read():
                yield row


def copy_statement(record: type[Record], queryset: QuerySet, fmt: str) -> tuple[str, tuple]:
    """The `COPY … TO STDOUT` that renders `record` for every row of `queryset`.

    Each serializer field becomes the column of its source path; embargoed fields become
    NULL where `results_embargoed` is set, as `Record.to_representation` does.
    """
    fields = list(record().fields.items())
    columns = {}
    for index, (name, field) in enumerate(fields):
        path = F("__".join(field.source_attrs))
        if name in record.embargoed_fields and "results_embargoed" in queryset.query.annotations:
            path = Case(When(results_embargoed=False, then=path), default=None)
        columns[f"c{index}"] = path
    # No ORDER BY inside: the subqueries then fold into one query whose rows the parallel
    # workers render, and the outer ORDER BY merges them.
    inner, params = queryset.order_by().values(**columns).query.sql_with_params()
    quote = connection.ops.quote_name
    order = f"c{list(record().fields).index(record.ordering_field)}"
    # Names come from the serializer, values are bound parameters: nothing from the caller
    # is spliced into the SQL.
    if fmt == ExportFormat.CSV:
        select = ", ".join(
            f"{_csv_column(f't.c{index}', field)} AS {quote(name)}"
            for index, (name, field) in enumerate(fields)
        )
        query = f"SELECT {select} FROM ({inner}) t ORDER BY t.{order}"  # noqa: S608
        return f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)", params
    named = ", ".join(f"t.c{index} AS {quote(name)}" for index, (name, _field) in enumerate(fields))
    query = (
        f"SELECT row_to_json(r) FROM (SELECT {named} FROM ({inner}) t) r "  # noqa: S608
        f"ORDER BY r.{quote(record.ordering_field)}"
    )
    # CSV with a delimiter and quote that JSON never contains: unlike COPY's text format,
    # it copies backslashes (JSON's escapes) as they are.
    return f"COPY ({query}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')", params


def _csv_column(column: str, field: serializers.Field) -> str:
    """A column as `_csv_value` writes it: times as in JSON, booleans as words, and text
    that a spreadsheet would run as a formula after an apostrophe."""
    if isinstance(field, serializers.DateTimeField):
        # The JSON string without its quotes (a time has nothing to escape): cheaper than
        # `#>> '{}'`, which parses the JSON again.
        return f"btrim(to_json({column})::text, '\"')"
    if isinstance(field, serializers.BooleanField):
        return f"{column}::text"
    if isinstance(field, serializers.CharField):
        # The code of the first character (0 for none): cheaper than comparing left(…, 1).
        starts = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
        return f"CASE WHEN ascii({column}) IN ({starts}) THEN '''' || {column} ELSE {column} END"
    return column


# JSON Schemas, generated from the same serializers as the API's OpenAPI components.


def json_schema(shape: str, *, schema_id: str = "") -> dict:
    """The JSON Schema (draft 2020-12) of one shape of SHAPES."""
    components = _openapi_components()
    schema = _json_schema_node(components[SHAPES[shape].__name__], components)
    header = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": shape}
    if schema_id:
        header["$id"] = schema_id
    return {**header, **schema}


_components_cache: dict = {}


def _openapi_components() -> dict:
    if not _components_cache:
        from drf_spectacular.generators import SchemaGenerator

        with translation.override("en"):  # published once, in one language
            openapi = SchemaGenerator().get_schema(request=None, public=True)
        _components_cache.update(openapi["components"]["schemas"])
    return _components_cache


def _json_schema_node(node, components: dict):
    """OpenAPI 3.0 schema → JSON Schema: inline $refs, turn `nullable` into a null type."""
    if isinstance(node, list):
        return [_json_schema_node(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema_node(components[node["$ref"].rsplit("/", 1)[1]], components)
    converted = {
        key: _json_schema_node(value, components)
        for key, value in node.items()
        if key != "nullable"
    }
    if not node.get("nullable"):
        return converted
    if isinstance(converted.get("type"), str) and "enum" not in converted:
        return {**converted, "type": [converted["type"], "null"]}
    return {"anyOf": [converted, {"type": "null"}]}
