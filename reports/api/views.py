"""The API's views: thin. Records are shaped by reports.domain.records, writes go through services.

Lists are cursor-paginated, filtered by django-filter and ordered with ?ordering=. Incidents
and reports also serve incremental sync (?changed_since=, see pagination.py).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from reports import filters
from reports.api.pagination import SYNC_PARAM, sync_cursor_decode, sync_cursor_encode
from reports.api.permissions import (
    FullRead,
    Identified,
    SubmitReports,
    caller_token,
    okrug_limited,
    read_scope,
    staff_scoped,
)
from reports.api.serializers import ExportJobStatus, ExportRequest, ReportReceipt, ReportSubmission
from reports.domain import records
from reports.models import (
    Alert,
    Category,
    Channel,
    ExportJob,
    ExportScope,
    Incident,
    Report,
    Station,
    Tally,
)
from reports.selectors import tallies_for
from reports.services.exports import (
    ExportFiltersInvalid,
    ExportLimitReached,
    export_file,
    export_limit_message,
    export_start,
)
from reports.services.submission import ReportConflict, report_submit

SYNC_PARAMETER = OpenApiParameter(
    SYNC_PARAM,
    str,
    description=_(
        "Incremental sync: empty to start, then the cursor of the previous page's `next` "
        "link (or an ISO 8601 time). Rows come in (updated_at, id) order."
    ),
)


class RecordViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Read-only records of one shape (reports.domain.records)."""

    record: type[records.Record]
    filter_backends = [DjangoFilterBackend, OrderingFilter]

    def get_serializer_class(self):
        return self.record


class SyncMixin:
    """?changed_since=: rows that changed after a cursor, in (updated_at, id) order.

    A page is a window of the rows changed after the cursor among those the caller sees
    now or may have seen before (`sync_rows`: in the caller's okrugs; for the public, rows
    public now or once), filtered only then, and taken only from rows unchanged for
    API_SYNC_SETTLE_SECONDS (so a transaction still open cannot commit a row behind the
    cursor). Rows of the window the caller may see are `results`; the others are
    `removed`, so a mirror drops what left the caller's view. No other row's id or time
    reaches the caller, in `removed` or in the cursor. A row changed again since the
    window was read is left for a later page.
    """

    def sync_rows(self) -> QuerySet:
        raise NotImplementedError

    def list(self, request: Request, *args, **kwargs) -> Response:
        if SYNC_PARAM not in request.query_params:
            return super().list(request, *args, **kwargs)
        window = self.sync_window(request)
        visible = {row.pk: row for row in self.get_queryset().filter(pk__in=dict(window))}
        serializer = self.get_serializer()
        results = [
            serializer.to_representation(visible[pk])
            for pk, stamp in window
            if pk in visible and visible[pk].updated_at == stamp
        ]
        removed = [pk for pk, _stamp in window if pk not in visible]
        next_url = request.build_absolute_uri()
        if window:
            cursor = sync_cursor_encode(window[-1][1], window[-1][0])
            next_url = replace_query_param(next_url, SYNC_PARAM, cursor)
        body = {"next": next_url, "previous": None, "results": results, "removed": removed}
        return Response(body)

    def sync_window(self, request: Request) -> "list[tuple[int, datetime]]":
        """(id, updated_at) of the next settled rows changed after the cursor, in order."""
        after = sync_cursor_decode(request.query_params[SYNC_PARAM])
        settled = timezone.now() - timedelta(seconds=settings.API_SYNC_SETTLE_SECONDS)
        changed = self.filter_queryset(self.sync_rows()).filter(updated_at__lte=settled)
        if after is not None:
            moment, pk = after
            changed = changed.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk))
        size = self.paginator.get_page_size(request)
        return list(changed.order_by("updated_at", "pk").values_list("pk", "updated_at")[:size])


@extend_schema_view(list=extend_schema(parameters=[SYNC_PARAMETER]))
class IncidentViewSet(SyncMixin, RecordViewSet):
    """Incidents: one real event at one station. The public dataset has verified ones only."""

    record = records.IncidentRecord
    filterset_class = filters.IncidentFilter
    ordering_fields = ["id", "last_at", "first_at", "confidence", "report_count", "updated_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Incident]:
        rows = records.incident_rows(read_scope(self.request))
        rows = staff_scoped(self.request, rows, "station__okrug_id")
        return rows.select_related(*self.record.select_related)

    def sync_rows(self) -> QuerySet[Incident]:
        rows = records.incident_rows_once_visible(read_scope(self.request))
        return staff_scoped(self.request, rows, "station__okrug_id")


REPORT_RECORD = PolymorphicProxySerializer(
    component_name="Report",
    serializers=[records.PublicReportRecord, records.FullReportRecord],
    resource_type_field_name=None,
)


@extend_schema_view(
    list=extend_schema(
        parameters=[SYNC_PARAMETER],
        responses=PolymorphicProxySerializer(
            component_name="Report",
            serializers=[records.PublicReportRecord, records.FullReportRecord],
            resource_type_field_name=None,
            many=True,
        ),
    ),
    retrieve=extend_schema(responses=REPORT_RECORD),
    create=extend_schema(
        request=ReportSubmission,
        responses={
            201: ReportReceipt,
            200: OpenApiResponse(
                ReportReceipt, description=_("Already received: not stored twice.")
            ),
            409: OpenApiResponse(description=_("This uuid was used for a different report.")),
        },
    ),
)
class ReportViewSet(SyncMixin, mixins.CreateModelMixin, RecordViewSet):
    """Reports as sent. The public dataset: reports of verified incidents, reporter as a role.

    Full read (token scope `full_read`, or staff with `reports.view_report`) adds the
    reporter's pseudonym and every status; nobody gets contacts here.
    """

    filterset_class = filters.ReportFilter
    ordering_fields = ["id", "received_at", "updated_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Report]:
        if getattr(self, "swagger_fake_view", False):  # the schema: no database needed
            return Report.objects.none()
        scope = read_scope(self.request)
        record = records.report_record(scope)
        rows = records.report_rows(scope).select_related(*record.select_related)
        rows = staff_scoped(self.request, rows, "station__okrug_id")
        if scope == ExportScope.PUBLIC:
            rows = records.embargo_annotate(rows, record)
        return rows

    def sync_rows(self) -> QuerySet[Report]:
        rows = records.report_rows_once_visible(read_scope(self.request))
        return staff_scoped(self.request, rows, "station__okrug_id")

    def get_serializer_class(self):
        if self.action == "create":
            return ReportSubmission
        return records.report_record(read_scope(self.request))

    def get_permissions(self):
        if self.action == "create":
            return [SubmitReports()]
        return super().get_permissions()

    def create(self, request: Request, *args, **kwargs) -> Response:
        observer = None if caller_token(request) else request.user.observer
        submission = ReportSubmission(data=request.data, context={"observer": observer})
        submission.is_valid(raise_exception=True)
        try:
            report, created = report_submit(
                data=submission.validated_data["input"], observer=observer, channel=Channel.API
            )
        except ReportConflict:
            return Response(
                {"detail": str(ReportConflict.message)}, status=status.HTTP_409_CONFLICT
            )
        return Response(
            ReportReceipt(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class StationViewSet(RecordViewSet):
    record = records.StationRecord
    queryset = Station.objects.select_related(*records.StationRecord.select_related)
    filterset_class = filters.StationFilter
    ordering_fields = ["id", "number"]
    ordering = ["number"]


class CategoryViewSet(RecordViewSet):
    record = records.CategoryRecord
    queryset = Category.objects.all()
    lookup_field = "code"
    filterset_class = filters.CategoryFilter
    ordering_fields = ["position", "code"]
    ordering = ["position"]


class TallyViewSet(RecordViewSet):
    """Report counts by hour and key. They count unverified reports: full read only; staff
    limited to some okrugs read their own places' tallies only (selectors.tallies_for)."""

    record = records.TallyRecord
    permission_classes = [FullRead]
    filterset_class = filters.TallyFilter
    ordering_fields = ["id", "hour", "count"]
    ordering = ["id"]

    def get_queryset(self) -> QuerySet[Tally]:
        if okrug_limited(self.request):
            return tallies_for(self.request.user)
        return Tally.objects.all()


class AlertViewSet(RecordViewSet):
    """Alerts raised for coordinators: full read only."""

    record = records.AlertRecord
    permission_classes = [FullRead]
    filterset_class = filters.AlertFilter
    ordering_fields = ["id", "raised_at"]
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Alert]:
        rows = Alert.objects.select_related(*self.record.select_related)
        return staff_scoped(self.request, rows, "okrug_id")


class FileRenderer(BaseRenderer):
    """Lets a download answer whatever the client accepts; the body is a file."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


EXPORT_CONTENT_TYPES = {
    "ndjson.gz": "application/gzip",
    "json": "application/json",
    "csv": "text/csv",
}


class ExportsBusy(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "exports_busy"


class ExportViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulk exports: start one, poll its status, download the file until it expires."""

    serializer_class = ExportJobStatus
    permission_classes = [Identified]
    pagination_class = None

    def get_queryset(self) -> QuerySet[ExportJob]:
        token = caller_token(self.request)
        if token is not None:
            return ExportJob.objects.filter(token=token)
        if not self.request.user.is_authenticated:
            return ExportJob.objects.none()
        return ExportJob.objects.filter(requested_by=self.request.user)

    @extend_schema(
        request=ExportRequest,
        responses={
            202: ExportJobStatus,
            429: OpenApiResponse(description="The caller's running exports are at the limit."),
        },
        description=(
            "Starts an export; while the caller's identical export still waits or runs, "
            "answers that one instead."
        ),
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        wanted = ExportRequest(data=request.data)
        wanted.is_valid(raise_exception=True)
        data = wanted.validated_data
        if data["scope"] == ExportScope.FULL and read_scope(request) != ExportScope.FULL:
            raise PermissionDenied(_("A full export needs full read access."))
        if data["scope"] == ExportScope.FULL and okrug_limited(request):
            raise PermissionDenied(
                _("Your access is limited to some okrugs: export the public dataset.")
            )
        try:
            job = export_start(
                shape=data["shape"],
                fmt=data["format"],
                scope=data["scope"],
                filters=data["filters"],
                requested_by=request.user,
                token=caller_token(request),
            )
        except ExportFiltersInvalid as invalid:
            raise ValidationError({"filters": invalid.errors}) from None
        except ExportLimitReached as limit:
            raise ExportsBusy(export_limit_message(limit.limit)) from None
        job.refresh_from_db()
        body = ExportJobStatus(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, content_type): OpenApiResponse(OpenApiTypes.BINARY)
            for content_type in EXPORT_CONTENT_TYPES.values()
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[FileRenderer])
    def download(self, request: Request, pk=None) -> FileResponse:
        job = self.get_object()
        if job.status == ExportJob.Status.EXPIRED:
            raise Http404(_("This export has expired. Start a new one."))
        if job.status != ExportJob.Status.DONE:
            raise Http404(_("This export is not ready yet."))
        filename = f"{job.shape}-{job.created_at:%Y%m%d-%H%M}.{job.format}"
        try:
            content = export_file(job).open("rb")
        except FileNotFoundError:
            raise Http404(_("This export has expired. Start a new one.")) from None
        return FileResponse(
            content,
            as_attachment=True,
            filename=filename,
            content_type=EXPORT_CONTENT_TYPES[job.format],
        )


@require_GET
def json_schema(request: HttpRequest, shape: str) -> JsonResponse:
    """The JSON Schema of one exported record shape."""
    if shape not in records.SHAPES:
        raise Http404(_("No such record shape."))
    schema = records.json_schema(shape, schema_id=request.build_absolute_uri())
    return JsonResponse(
        schema, content_type="application/schema+json", json_dumps_params={"ensure_ascii": False}
    )
