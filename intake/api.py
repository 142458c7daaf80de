"""The provider JSON API: the CyberTipline report in JSON, element names as keys."""

import json
import math
import re
from typing import Any

from django.conf import settings
from django.db import transaction
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
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError, flatten_field_errors
from intake.audit import audit_record
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
from intake.models import AuditEntry, HashFeedback, Provider, Report, ReportedFile
from intake.ratelimit import ProviderRateThrottle
from intake.selectors import report_get_for_provider
from intake.services import (
    report_file_add,
    report_finish,
    report_open,
    report_retract,
    reports_submit_bulk,
)
from intake.sharing import SHARED_TYPES, hash_feedback_add, shared_hashes_since
from intake.validators import forbidden_character

BULK_MAX_REPORTS = 1000


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


class JsonRefused(ParseError):
    """A body that is not JSON this API can take, with where it goes wrong (a dotted path,
    as validation errors name fields) when that can be told."""

    def __init__(self, message: str, *, code: str, path: str = "") -> None:
        super().__init__(message, code=code)
        self.fields = {path: [message]} if path else {}


# The deepest report (a bulk item's associated account's IP capture event) nests 9 levels.
JSON_MAX_DEPTH = 32
# No element takes an integer beyond 64 bits; longer ones are refused before conversion.
JSON_MAX_INTEGER_DIGITS = 20
# Escapes (and the two raw characters) that can stand for a character XML 1.0 does not
# allow: a cheap test on the text, before looking for them in the parsed document.
MAYBE_FORBIDDEN = re.compile(r"\\u00[01]|\\u[dD][89a-fA-F]|\\u[fF]{3}[eEfF]|\\[bf]|[\ufffe\uffff]")
JSON_SYMBOL = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{},:]')


class OutOfRange:
    """A number no element can take (NaN, Infinity, beyond a double, an integer of more
    than JSON_MAX_INTEGER_DIGITS digits), kept in its place so the error can say where."""

    def __init__(self, literal: str) -> None:
        self.literal = (
            literal if len(literal) <= 24 else f"{literal[:20]}... ({len(literal)} characters)"
        )


def json_path_at(text: str, *, deeper_than: int | None = None) -> str:
    """The dotted path of the place where ``text`` ends or, with ``deeper_than``, where it
    first nests deeper than that: read symbol by symbol, for JSON that cannot be parsed."""
    path: list[str | int | None] = []
    key: str | None = None
    for match in JSON_SYMBOL.finditer(text):
        symbol = match.group()
        if symbol in ("[", "{"):
            if deeper_than is not None and len(path) >= deeper_than:
                break
            path.append(0 if symbol == "[" else None)
        elif symbol in ("]", "}"):
            if path:
                path.pop()
        elif symbol == ",":
            if path and isinstance(path[-1], int):
                path[-1] += 1
            elif path:
                path[-1] = None
        elif symbol == ":":
            if path:
                path[-1] = key
        else:
            try:
                key = str(json.loads(symbol))
            except ValueError:
                key = symbol.strip('"')
    return ".".join(str(step) for step in path if step is not None)


def nested_deeper_than(data: Any, limit: int) -> bool:
    level = [data] if isinstance(data, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True


def refuse_unusable_values(data: Any) -> None:
    """Refuse, naming its path, the first value of ``data`` no element can take: nesting
    deeper than JSON_MAX_DEPTH, a number out of range, or text (a key or a value) with a
    character XML 1.0 does not allow."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, level = stack.pop()
        if isinstance(value, OutOfRange):
            raise JsonRefused(
                f"The number {value.literal} is out of range: no element takes NaN, "
                f"Infinity or a number that large.",
                code="number_out_of_range",
                path=path,
            )
        if isinstance(value, str) and forbidden_character(value):
            raise JsonRefused(
                f"The character {forbidden_character(value)} is not allowed: text may hold "
                "only the characters XML 1.0 allows (no control characters but tab and line "
                "breaks).",
                code="forbidden_character",
                path=path,
            )
        if not isinstance(value, dict | list):
            continue
        if level >= JSON_MAX_DEPTH:
            raise JsonRefused(
                f"JSON nested more than {JSON_MAX_DEPTH} levels deep is refused.",
                code="too_deep",
                path=path,
            )
        items = list(value.items() if isinstance(value, dict) else enumerate(value))
        for key, _item in items:
            if isinstance(key, str) and forbidden_character(key):
                raise JsonRefused(
                    f"The name of this element holds the character {forbidden_character(key)}, "
                    "which is not allowed.",
                    code="forbidden_character",
                    path=f"{path}.{key}" if path else key,
                )
        stack.extend(
            (item, f"{path}.{key}" if path else str(key), level + 1)
            for key, item in reversed(items)
        )


def json_document(body: bytes) -> Any:
    """``body`` parsed as JSON (UTF-8, RFC 8259), or JsonRefused saying why and where."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonRefused(
            f"The body is not valid UTF-8: byte 0x{body[error.start]:02x} at offset "
            f"{error.start} ({error.reason}).",
            code="parse_error",
            path=json_path_at(body[: error.start].decode("utf-8")),
        ) from None
    out_of_range: list[OutOfRange] = []

    def number(literal: str) -> OutOfRange:
        out_of_range.append(OutOfRange(literal))
        return out_of_range[-1]

    def integer(literal: str) -> int | OutOfRange:
        too_long = len(literal.lstrip("-")) > JSON_MAX_INTEGER_DIGITS
        return number(literal) if too_long else int(literal)

    def real(literal: str) -> float | OutOfRange:
        value = float(literal)
        return number(literal) if math.isinf(value) else value

    try:
        data = json.loads(text, parse_constant=number, parse_int=integer, parse_float=real)
    except RecursionError:
        raise JsonRefused(
            f"JSON nested more than {JSON_MAX_DEPTH} levels deep is refused.",
            code="too_deep",
            path=json_path_at(text, deeper_than=JSON_MAX_DEPTH),
        ) from None
    except json.JSONDecodeError as error:
        raise JsonRefused(
            f"The body is not JSON: {error.msg} (line {error.lineno}, column {error.colno}).",
            code="parse_error",
            path=json_path_at(text[: error.pos]),
        ) from None
    if out_of_range or nested_deeper_than(data, JSON_MAX_DEPTH) or MAYBE_FORBIDDEN.search(text):
        refuse_unusable_values(data)
    return data


class LimitedJSONParser(BaseParser):
    """JSON, refused before it is read when the body is larger than API_MAX_BODY_BYTES,
    and refused naming where when it is not JSON every element can be checked in.

    Not a JSONParser: DRF reads the whole body of a JSONParser's request into memory
    before parsing it (and refuses one larger than DATA_UPLOAD_MAX_MEMORY_SIZE); this
    parser gets the stream, unread, and reads it only once it has checked the length."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > limit:
            raise BodyTooLarge(f"The body is {length} bytes; the limit is {limit} bytes.")
        return json_document(stream.read(limit + 1))


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

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is not None and forbidden_character(key):
            raise ApplicationError(
                f"The {IDEMPOTENCY_HEADER} header holds the character "
                f"{forbidden_character(key)}, which is not allowed.",
                code="forbidden_character",
                fields={IDEMPOTENCY_HEADER: ["Use printable characters only."]},
            )


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


# The shared known-hash list (intake/sharing.py) ------------------------------------------

SHARED_PAGE_DEFAULT = 1000
SHARED_PAGE_MAX = 10_000


class HasHashSharingAgreement(BasePermission):
    message = "The shared hash list is for providers that have signed the hash-sharing agreement."
    code = "agreement_required"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request_provider(request).hash_sharing_agreement


class SharingApi(ProviderApi):
    permission_classes = [*ProviderApi.permission_classes, HasHashSharingAgreement]


class SharedHashesApi(SharingApi):
    class InputSerializer(StrictSerializer):
        since = serializers.CharField(required=False, max_length=200)
        limit = serializers.IntegerField(
            required=False, min_value=1, max_value=SHARED_PAGE_MAX, default=SHARED_PAGE_DEFAULT
        )

    class EntrySerializer(serializers.Serializer):
        id = serializers.IntegerField(source="pk")
        hashType = serializers.ChoiceField(source="hash_type", choices=SHARED_TYPES)
        value = serializers.CharField()
        label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
        active = serializers.BooleanField(source="is_active")

    @extend_schema(
        operation_id="shared_hashes_list",
        parameters=[
            OpenApiParameter(
                "since",
                str,
                required=False,
                description="The nextCursor of the previous page; without it, from the start.",
            ),
            OpenApiParameter(
                "limit", int, required=False, description=f"At most {SHARED_PAGE_MAX}."
            ),
        ],
        responses={
            200: inline_serializer(
                "SharedHashes",
                {
                    "entries": EntrySerializer(many=True),
                    "nextCursor": serializers.CharField(),
                    "hasMore": serializers.BooleanField(),
                },
            ),
            **ERRORS,
        },
        summary="The shared known-hash list, changed entries after a cursor",
        description="For providers under the hash-sharing agreement: entries in the order "
        "they were added or changed, each once per change; an entry taken off the list comes "
        "again with `active: false`. Keep `nextCursor` and ask from it next time: no entry "
        "is skipped, even while entries are being added. There is no lookup of one hash.",
    )
    def get(self, request: Request) -> Response:
        query = self.InputSerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = shared_hashes_since(
            cursor=query.validated_data.get("since"), limit=query.validated_data["limit"]
        )
        # Who took which part of the list, and when: each page on the audit trail.
        audit_record(
            action=AuditEntry.Action.EXPORT,
            request=request,
            obj=request_provider(request),
            detail={
                "list": "shared known hashes",
                "since": query.validated_data.get("since", ""),
                "entries": len(page.entries),
                "nextCursor": page.next_cursor,
            },
        )
        return Response(
            {
                "entries": self.EntrySerializer(page.entries, many=True).data,
                "nextCursor": page.next_cursor,
                "hasMore": page.has_more,
            }
        )


class SharedHashFeedbackApi(SharingApi):
    class InputSerializer(StrictSerializer):
        verdict = serializers.ChoiceField(choices=HashFeedback.Verdict.choices)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=3000)

    class OutputSerializer(serializers.Serializer):
        feedbackId = serializers.IntegerField(source="pk")
        id = serializers.IntegerField(source="known_hash_id")
        verdict = serializers.CharField()

    @extend_schema(
        operation_id="shared_hash_feedback",
        request=InputSerializer,
        responses={201: OutputSerializer, **ERRORS},
        summary="Confirm or dispute (with a reason) an entry of the shared list",
    )
    def post(self, request: Request, entry_id: int) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with transaction.atomic():  # no feedback without its audit entry
            feedback = hash_feedback_add(
                provider=request_provider(request),
                entry_id=entry_id,
                verdict=data["verdict"],
                reason=data.get("reason", ""),
            )
            audit_record(action=AuditEntry.Action.ADD, request=request, obj=feedback)
        return Response(self.OutputSerializer(feedback).data, status=status.HTTP_201_CREATED)
