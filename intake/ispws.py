"""The CyberTipline-compatible XML interface under /ispws/: a provider's existing
CyberTipline client pointed at this server works unchanged. HTTP Basic with the
provider's username and password; answers are <reportResponse> or <reportDoneResponse>
with the CyberTipline's response codes."""

import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from xml.etree.ElementTree import SubElement

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from rest_framework import serializers

from config.errors import ApplicationError, flatten_field_errors
from intake import schema
from intake.authentication import user_for_basic_auth
from intake.documents import (
    DocumentError,
    FileDetailsSerializer,
    ReportSerializer,
    document_from_xml,
    report_xsd,
    validated_document,
)
from intake.models import Provider, Report
from intake.ratelimit import provider_rate_limit_wait
from intake.selectors import report_get_for_provider
from intake.services import (
    report_file_details_set,
    report_file_upload,
    report_finish,
    report_open,
    report_retract,
)
from intake.uploads import UploadDigest, UploadTooLarge
from intake.validators import validate_file_name
from intake.xml import MalformedXml, element, parse_xml, xml_bytes

logger = logging.getLogger(__name__)

SUCCESS = 0
SERVER_ERROR = 1000
AUTHENTICATION_REQUIRED = 2000
NOT_AUTHORIZED = 3000
INVALID_REQUEST = 4000
VALIDATION_FAILED = 4100
MALFORMED_XML = 4110
REPORT_NOT_FOUND = 5001
FILE_NOT_FOUND = 5002
ALREADY_RETRACTED = 5101
ALREADY_FINISHED = 5102

# The service layer's error codes, as CyberTipline response codes and HTTP statuses.
APPLICATION_ERRORS = {
    "not_found": (REPORT_NOT_FOUND, 404),
    "file_not_found": (FILE_NOT_FOUND, 404),
    "already_retracted": (ALREADY_RETRACTED, 409),
    "already_finished": (ALREADY_FINISHED, 409),
    "details_already_sent": (INVALID_REQUEST, 409),
}
DESCRIPTIONS = {
    SUCCESS: "Success",
    SERVER_ERROR: "Server error",
    AUTHENTICATION_REQUIRED: "Authentication required",
    NOT_AUTHORIZED: "User is not authorized to perform this action",
    INVALID_REQUEST: "Invalid request",
    VALIDATION_FAILED: "Validation failed",
    MALFORMED_XML: "Malformed XML submittal",
    REPORT_NOT_FOUND: "Report does not exist",
    FILE_NOT_FOUND: "File does not exist",
    ALREADY_RETRACTED: "Report already retracted",
    ALREADY_FINISHED: "Report already finished",
}


class IspwsError(Exception):
    def __init__(self, code: int, detail: str = "", http_status: int = 400, **fields: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.http_status = http_status
        self.fields = fields


def xml_response(root_tag: str, fields: dict[str, Any], http_status: int = 200) -> HttpResponse:
    return HttpResponse(
        xml_bytes(element(root_tag, fields)),
        status=http_status,
        content_type="application/xml; charset=utf-8",
    )


def report_response(
    code: int = SUCCESS, detail: str = "", http_status: int = 200, **fields: Any
) -> HttpResponse:
    description = DESCRIPTIONS[code] + (f": {detail}" if detail else "")
    body = {"responseCode": code, "responseDescription": description, **fields}
    return xml_response("reportResponse", body, http_status)


def refuse_body_too_large(request: HttpRequest) -> None:
    """Refuse, before reading a byte of it, a body larger than any this interface takes:
    a file and the form fields around it for /upload, XML or form fields elsewhere. (A
    file sent to /finish would otherwise be read, and hashed, to the end.)"""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.resolver_match is not None and request.resolver_match.url_name == "upload":
        limit += settings.UPLOAD_MAX_BYTES
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not (length.isascii() and length.isdigit()) or int(length) > limit:
        raise RequestDataTooBig(f"The body is {length} bytes; the limit is {limit} bytes.")


def ispws_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Basic auth (401 with an empty body when the username or password is missing or
    wrong; 2000 when another scheme is used), the provider's rate limit, and every failure
    answered as a <reportResponse> with its CyberTipline code."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = user_for_basic_auth(request)
        if user is None:
            scheme = request.headers.get("Authorization", "").partition(" ")[0]
            if scheme and scheme.lower() != "basic":
                response = report_response(AUTHENTICATION_REQUIRED, "use HTTP Basic", 401)
            else:
                response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Basic realm="ESP Web Services"'
            return response
        provider = getattr(user, "provider", None)
        if not isinstance(provider, Provider) or not provider.is_active:
            return report_response(NOT_AUTHORIZED, http_status=403)
        wait = provider_rate_limit_wait(provider_id=provider.pk)
        if wait is not None:
            response = report_response(
                INVALID_REQUEST, f"too many requests; retry after {wait} seconds", 429
            )
            response["Retry-After"] = str(wait)
            return response
        try:
            refuse_body_too_large(request)
            return view(request, provider, *args, **kwargs)
        except IspwsError as error:
            return report_response(error.code, error.detail, error.http_status, **error.fields)
        except ApplicationError as error:
            code, http_status = APPLICATION_ERRORS.get(error.code, (INVALID_REQUEST, 400))
            return report_response(code, error.message, http_status)
        except (RequestDataTooBig, UploadTooLarge):
            return report_response(INVALID_REQUEST, "the request body is too large", 413)
        except (MultiPartParserError, SuspiciousOperation) as error:
            # A form body Django cannot read (a broken multipart body, too many fields).
            return report_response(INVALID_REQUEST, f"the form cannot be read: {error}", 400)
        except Exception:
            logger.exception("ISPWS %s failed", request.path)
            return report_response(SERVER_ERROR, http_status=500)

    return wrapper


def xml_document(request: HttpRequest, complex_type: schema.Complex, root: str) -> dict[str, Any]:
    try:
        node = parse_xml(request.body)
    except MalformedXml as error:
        raise IspwsError(MALFORMED_XML, str(error)) from None
    if node.tag != root:
        raise IspwsError(MALFORMED_XML, f"the root element must be <{root}>, not <{node.tag}>")
    try:
        return document_from_xml(node, complex_type)
    except DocumentError as error:
        raise IspwsError(VALIDATION_FAILED, f"{error.path}: {error.message}") from None


def validated(
    serializer_class: type[serializers.Serializer], data: Any, root: str
) -> dict[str, Any]:
    try:
        return validated_document(serializer_class, data)
    except serializers.ValidationError as error:
        errors = flatten_field_errors(error.detail)
    detail = "; ".join(
        f"{root}/{path.replace('.', '/')}: {' '.join(reasons)}" for path, reasons in errors.items()
    )
    raise IspwsError(VALIDATION_FAILED, detail) from None


REPORT_ID = re.compile(r"[0-9]{1,19}")  # ASCII digits only, and no more than a bigint has


def form_report_id(request: HttpRequest) -> int:
    """The report id in the form field ``id`` (urlencoded or multipart)."""
    report_id = request.POST.get("id", "").strip()
    if not REPORT_ID.fullmatch(report_id):
        raise IspwsError(
            INVALID_REQUEST, "the form field id must be a report id (digits 0-9, at most 19)"
        )
    return int(report_id)


def form_report(request: HttpRequest, provider: Provider) -> Report:
    """The provider's report named by the form field ``id``."""
    return report_get_for_provider(provider=provider, report_id=form_report_id(request))


@require_GET
@ispws_view
def status(request: HttpRequest, provider: Provider) -> HttpResponse:
    detail = (
        f"Remote User : {provider.user.username}, Remote Ip : {request.META.get('REMOTE_ADDR')}"
    )
    return xml_response("reportResponse", {"responseCode": SUCCESS, "responseDescription": detail})


@require_GET
@ispws_view
def xsd(request: HttpRequest, provider: Provider) -> HttpResponse:
    return HttpResponse(report_xsd(), content_type="application/xml; charset=utf-8")


@require_POST
@ispws_view
def submit(request: HttpRequest, provider: Provider) -> HttpResponse:
    document = validated(ReportSerializer, xml_document(request, schema.REPORT, "report"), "report")
    report = report_open(document=document, provider=provider)
    return report_response(reportId=report.pk)


def upload_file_name(digest: UploadDigest, report: Report) -> str:
    """The uploaded file's name, checked like fileName. Django's multipart parser has
    already kept only its last path component, dropped unprintable characters and
    refused part headers over 1,024 bytes (so names over about 950 characters)."""
    try:
        validate_file_name(digest.file_name)
    except ValidationError as error:
        raise IspwsError(
            VALIDATION_FAILED,
            f"file (its file name): {' '.join(error.messages)}",
            reportId=report.pk,
        ) from None
    return digest.file_name


@require_POST
@ispws_view
def upload(request: HttpRequest, provider: Provider) -> HttpResponse:
    report = form_report(request, provider)
    digest = request.FILES.get("file")
    if not isinstance(digest, UploadDigest):
        raise IspwsError(
            INVALID_REQUEST, "send the file as the multipart field file", reportId=report.pk
        )
    upload_file_name(digest, report)
    file = report_file_upload(report=report, upload=digest)
    return report_response(reportId=report.pk, fileId=file.file_id, hash=file.md5)


@require_POST
@ispws_view
def fileinfo(request: HttpRequest, provider: Provider) -> HttpResponse:
    document = validated(
        FileDetailsSerializer,
        xml_document(request, schema.FILE_DETAILS, "fileDetails"),
        "fileDetails",
    )
    report = report_get_for_provider(provider=provider, report_id=document["reportId"])
    details = {key: value for key, value in document.items() if key not in {"reportId", "fileId"}}
    report_file_details_set(report=report, file_id=document["fileId"], details=details)
    return report_response(reportId=report.pk)


@require_POST
@ispws_view
def finish(request: HttpRequest, provider: Provider) -> HttpResponse:
    report_id = form_report_id(request)
    file_ids = report_finish(report_id=report_id, provider=provider)
    root = element("reportDoneResponse", {"responseCode": SUCCESS, "reportId": report_id})
    files = SubElement(root, "files")
    for file_id in file_ids:
        SubElement(files, "fileId").text = file_id
    return HttpResponse(xml_bytes(root), content_type="application/xml; charset=utf-8")


@require_POST
@ispws_view
def retract(request: HttpRequest, provider: Provider) -> HttpResponse:
    report = report_retract(report=form_report(request, provider))
    return report_response(reportId=report.pk)
