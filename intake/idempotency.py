"""``Idempotency-Key`` for create requests: the same key and body get the first answer
again; the same key with another body is a conflict."""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import ApplicationError
from intake.models import IdempotencyKey, Provider

HEADER = "Idempotency-Key"


def request_fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def replay(stored: IdempotencyKey, fingerprint: str) -> Response:
    if stored.request_fingerprint != fingerprint:
        raise ApplicationError(
            "This Idempotency-Key was used for a different request.",
            code="idempotency_key_reused",
            fields={HEADER: ["Use a new key for a new request."]},
            http_status=status.HTTP_409_CONFLICT,
        )
    return Response(
        stored.response_body, status=stored.response_status, headers={"Idempotent-Replayed": "true"}
    )


def idempotent(request: Request, provider: Provider, create: Callable[[], Response]) -> Response:
    """Run ``create`` once per key: a retry with the same key and body is answered from
    the stored response and creates nothing. Errors are not stored (a retry meets the
    same validation again)."""
    key = request.headers.get(HEADER)
    if key is None:
        return create()
    if not 1 <= len(key) <= 255:
        raise ApplicationError(
            "The Idempotency-Key header must be 1 to 255 characters.",
            fields={HEADER: ["Must be 1 to 255 characters."]},
        )
    fingerprint = request_fingerprint(request)
    stored = IdempotencyKey.objects.filter(provider=provider, key=key).first()
    if stored is not None:
        return replay(stored, fingerprint)
    try:
        with transaction.atomic():
            response = create()
            IdempotencyKey.objects.create(
                provider=provider,
                key=key,
                request_fingerprint=fingerprint,
                response_status=response.status_code,
                response_body=response.data,
            )
    except IntegrityError:
        # A concurrent request with the same key won; this one's work was rolled back.
        stored = IdempotencyKey.objects.filter(provider=provider, key=key).first()
        if stored is None:
            raise
        return replay(stored, fingerprint)
    return response
