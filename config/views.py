import sys

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.unavailable import DATABASE_UNAVAILABLE, unavailable_response


def database_status() -> dict[str, object]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return {"ok": False, "vendor": connection.vendor, "error": type(error).__name__}
    return {"ok": True, "vendor": connection.vendor}


def broker_status() -> dict[str, object]:
    if not settings.REDIS_URL:
        return {"ok": True, "kind": "embedded (tasks run in the web process)"}
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        return {"ok": False, "kind": "redis", "error": type(error).__name__}
    finally:
        client.close()
    return {"ok": True, "kind": "redis"}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer; 503 naming what does not."""
    checks = {"database": database_status(), "broker": broker_status()}
    failing = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "unavailable" if failing else "ok", "failing": failing, **checks}
    return JsonResponse(body, status=503 if failing else 200)


def api_error_or_page(request: HttpRequest, code: str, message: str, status: int) -> HttpResponse:
    """Under /api/ every answer is JSON in the API's error shape; elsewhere, a page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message, "fields": {}}, status=status)
    return render(request, f"{status}.html", status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return api_error_or_page(request, "not_found", "Not found.", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # An error the middleware did not see (a middleware's own, such as saving the session)
    # is still a 503 when it is the database's.
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return unavailable_response(request)
    return api_error_or_page(request, "server_error", "Server error.", 500)
