"""The provider JSON API: the CyberTipline report in JSON, element names as keys."""

from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import flatten_field_errors
from intake.documents import (
    BulkReportSerializer,
    FileMetadataSerializer,
    ReportSerializer,
    StrictSerializer,
    validated_document,
)
from intake.examples import EXAMPLE_FILE, EXAMPLE_REPORT
from intake.idempotency import HEADER as IDEMPOTENCY_HEADER
from intake.idempotency import idempotent
from intake.models import Provider, Report, ReportedFile
from intake.ratelimit import ProviderRateThrottle
from intake.selectors import report_get_for_provider
from intake.services import (
    report_file_add,
    report_finish,
    report_open,
    report_retract,
    reports_submit_bulk,
)

BULK_MAX_REPORTS = 1000


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


class LimitedJSONParser(JSONParser):
    """JSON, refused before it is read when the body is larger than API_MAX_BODY_BYTES."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > limit:
            raise BodyTooLarge(f"The body is {length} bytes; the limit is {limit} bytes.")
        try:
            return super().parse(stream, media_type, parser_context)
        except UnicodeDecodeError as error:
            raise ParseError(f"The body is not valid UTF-8: {error}.") from None


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "intake.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, as printed by `manage.py create_provider`.",
        }


class IsProvider(BasePermission):
    message = "This API is for electronic service providers."

    def has_permission(self, request: Request, view: APIView) -> bool:
        provider = getattr(request.user, "provider", None)
        return isinstance(provider, Provider) and provider.is_active


def request_provider(request: Request) -> Provider:
    return request.user.provider  # type: ignore[union-attr]


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe creation: the same key and body return the first answer; "
    "the same key with another body answers 409.",
)


class ProviderApi(APIView):
    permission_classes = [IsAuthenticated, IsProvider]
    throttle_classes = [ProviderRateThrottle]
    parser_classes = [LimitedJSONParser]


class ReportStatusSerializer(serializers.Serializer):
    reportId = serializers.IntegerField(source="pk")
    status = serializers.CharField()


FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Reasons by the dotted path of the field they concern.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fields": FIELD_ERRORS_SCHEMA,
    },
    "required": ["code", "message", "fields"],
}
ERRORS: dict[int, Any] = {
    status_code: OpenApiResponse(ERROR_SCHEMA)
    for status_code in (400, 401, 403, 404, 409, 413, 415, 429)
}


class ReportOpenApi(ProviderApi):
    @extend_schema(
        operation_id="report_open",
        request=ReportSerializer,
        responses={201: ReportStatusSerializer, **ERRORS},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("A complete report", value=EXAMPLE_REPORT, request_only=True)],
        summary="Open a report",
    )
    def post(self, request: Request) -> Response:
        provider = request_provider(request)

        def create() -> Response:
            document = validated_document(ReportSerializer, request.data)
            report = report_open(document=document, provider=provider)
            return Response(ReportStatusSerializer(report).data, status=status.HTTP_201_CREATED)

        return idempotent(request, provider, create)


class FileStatusSerializer(serializers.Serializer):
    reportId = serializers.IntegerField(source="report_id")
    fileId = serializers.CharField(source="file_id")


class ReportFileAddApi(ProviderApi):
    @extend_schema(
        operation_id="report_file_add",
        request=FileMetadataSerializer,
        responses={201: FileStatusSerializer, **ERRORS},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("A file by its hashes", value=EXAMPLE_FILE, request_only=True)],
        summary="Add a file to an open report, by its hashes and details",
    )
    def post(self, request: Request, report_id: int) -> Response:
        provider = request_provider(request)

        def create() -> Response:
            report = report_get_for_provider(provider=provider, report_id=report_id)
            details = validated_document(FileMetadataSerializer, request.data)
            file = report_file_add(report=report, details=details)
            return Response(FileStatusSerializer(file).data, status=status.HTTP_201_CREATED)

        return idempotent(request, provider, create)


class ReportFinishApi(ProviderApi):
    class ReportFinishedSerializer(serializers.Serializer):
        reportId = serializers.IntegerField()
        status = serializers.CharField()
        fileIds = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        operation_id="report_finish",
        request=None,
        responses={200: ReportFinishedSerializer, **ERRORS},
        summary="Finish a report: no more changes, and it goes to review",
    )
    def post(self, request: Request, report_id: int) -> Response:
        file_ids = report_finish(report_id=report_id, provider=request_provider(request))
        finished = {"reportId": report_id, "status": Report.Status.FINISHED, "fileIds": file_ids}
        return Response(self.ReportFinishedSerializer(finished).data)


class ReportRetractApi(ProviderApi):
    @extend_schema(
        operation_id="report_retract",
        request=None,
        responses={200: ReportStatusSerializer, **ERRORS},
        summary="Retract an open report",
    )
    def post(self, request: Request, report_id: int) -> Response:
        report = report_get_for_provider(provider=request_provider(request), report_id=report_id)
        report = report_retract(report=report)
        return Response(ReportStatusSerializer(report).data)


class ReportedFileSerializer(serializers.ModelSerializer):
    fileId = serializers.CharField(source="file_id")
    fileName = serializers.CharField(source="file_name")
    size = serializers.IntegerField(source="size_bytes", allow_null=True)
    fileDetails = serializers.JSONField(source="details", allow_null=True)

    class Meta:
        model = ReportedFile
        fields = ["fileId", "fileName", "size", "md5", "sha1", "sha256", "fileDetails"]


class ReportDetailApi(ProviderApi):
    class ReportDetailSerializer(serializers.Serializer):
        reportId = serializers.IntegerField(source="pk")
        status = serializers.CharField()
        receivedAt = serializers.DateTimeField(source="received_at")
        finishedAt = serializers.DateTimeField(source="finished_at", allow_null=True)
        retractedAt = serializers.DateTimeField(source="retracted_at", allow_null=True)
        report = serializers.JSONField(source="document")
        files = serializers.SerializerMethodField()

        @extend_schema_field(ReportedFileSerializer(many=True))
        def get_files(self, report: Report) -> list[dict[str, Any]]:
            files = report.files.order_by("pk")
            return ReportedFileSerializer(files, many=True).data  # type: ignore[return-value]

    @extend_schema(
        operation_id="report_show",
        responses={200: ReportDetailSerializer, **ERRORS},
        summary="Show one of your reports (as you sent it, with its status)",
    )
    def get(self, request: Request, report_id: int) -> Response:
        report = report_get_for_provider(provider=request_provider(request), report_id=report_id)
        return Response(self.ReportDetailSerializer(report).data)


BULK_RESULTS_SCHEMA = {
    "type": "object",
    "properties": {
        "results": {
            "type": "array",
            "description": "One per submitted report, in input order.",
            "items": {
                "type": "object",
                "properties": {
                    "reportId": {"type": "integer"},
                    "status": {"type": "string"},
                    "errors": FIELD_ERRORS_SCHEMA,
                },
            },
        }
    },
    "required": ["results"],
}


class ReportBulkApi(ProviderApi):
    class InputSerializer(StrictSerializer):
        reports = serializers.ListField(
            child=serializers.JSONField(), min_length=1, max_length=BULK_MAX_REPORTS
        )

    @extend_schema(
        operation_id="reports_bulk",
        request=inline_serializer("BulkReports", {"reports": BulkReportSerializer(many=True)}),
        responses={200: OpenApiResponse(BULK_RESULTS_SCHEMA), **ERRORS},
        parameters=[IDEMPOTENCY_PARAMETER],
        summary=f"Open and finish up to {BULK_MAX_REPORTS} complete reports",
        description="Each item is a report with an optional `files` list of file metadata. "
        "Results come in input order: a `reportId` for each accepted item, `errors` for each "
        "refused one; one bad item does not stop the rest.",
    )
    def post(self, request: Request) -> Response:
        provider = request_provider(request)

        def create() -> Response:
            envelope = self.InputSerializer(data=request.data)
            envelope.is_valid(raise_exception=True)
            results: list[dict[str, Any]] = []
            valid: list[tuple[int, Any, Any]] = []
            for index, item in enumerate(envelope.validated_data["reports"]):
                try:
                    document = validated_document(BulkReportSerializer, item)
                except serializers.ValidationError as error:
                    results.append({"errors": flatten_field_errors(error.detail)})
                    continue
                files = document.pop("files", [])
                valid.append((index, document, files))
                results.append({})
            reports = reports_submit_bulk(
                provider=provider, items=[(document, files) for _, document, files in valid]
            )
            for (index, _, _), report in zip(valid, reports, strict=True):
                results[index] = {"reportId": report.pk, "status": report.status}
            return Response({"results": results})

        return idempotent(request, provider, create)
