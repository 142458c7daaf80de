"""One error type for domain failures, and one JSON shape for every API error:
``{"code": ..., "message": ..., "fields": {...}}``."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from config.unavailable import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, unavailable_body


class ApplicationError(Exception):
    """A request the domain refuses. ``code`` is stable and machine-readable;
    ``fields`` maps a field's path to the reasons it was refused."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        fields: dict[str, list[str]] | None = None,
        http_status: int = status.HTTP_400_BAD_REQUEST,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields or {}
        self.http_status = http_status


def reason_required(reason: str, *, to: str = "") -> str:
    """``reason`` stripped; refused when empty. Every decision staff or an agency take by
    hand (a priority, a route, a retraction) carries one."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            f"A reason is required{' to ' + to if to else ''}.",
            code="reason_required",
            fields={"reason": ["A reason is required."]},
        )
    return reason


def flatten_field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"a.b.0.c": ["reason", ...]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            path = prefix if key == "non_field_errors" else f"{prefix}.{key}" if prefix else key
            for sub_path, reasons in flatten_field_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(reasons)
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            for sub_path, reasons in flatten_field_errors(item, f"{prefix}.{index}").items():
                flat.setdefault(sub_path, []).extend(reasons)
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def _first_code(detail: Any) -> str:
    codes = detail.get_codes() if hasattr(detail, "get_codes") else detail
    while isinstance(codes, dict | list) and codes:
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return codes if isinstance(codes, str) else "invalid"


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "message": exc.message, "fields": exc.fields}
        return Response(body, status=exc.http_status)
    if isinstance(exc, DATABASE_UNAVAILABLE):
        # The database is down: the client should try again later (config/unavailable.py).
        return Response(
            unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.UnsupportedMediaType) and "multipart" in str(exc.detail):
        response.data = {
            "code": "media_not_accepted",
            "message": "This API takes JSON only and never files: describe each file by its "
            "hashes (POST /api/v1/reports/{reportId}/files).",
            "fields": {},
        }
    elif isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid",
            "message": "The request has invalid fields.",
            "fields": flatten_field_errors(exc.detail),
        }
    else:
        response.data = {
            "code": _first_code(exc.get_codes()),
            "message": str(exc.detail),
            # Where the request went wrong, when the exception can tell (intake.api.JsonRefused).
            "fields": getattr(exc, "fields", None) or {},
        }
    return response
