"""What the web processes do while a service they depend on is down.

Without the database nothing can be accepted or shown, so every request that needs it is
answered at once with 503 and a Retry-After, in the shape its client expects (the API's
JSON error, the XML interface's <reportResponse>, a short page for people), never with a
hang or a stack trace; the next request after the database is back is served as usual
(connections are health-checked, CONN_HEALTH_CHECKS). Without Redis, the cache is empty:
rate limits count nothing while it is down, and reports are still accepted (their routing
messages are sent by the outbox sweep once Redis is back).
"""

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

# The database cannot be reached, went away, or refused for a while (shutting down, too
# many connections, a lock or statement timeout): a retry later can succeed.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
MESSAGE = "The service is briefly unavailable. Please try again in a minute."
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Briefly unavailable</title></head>
<body><h1>The service is briefly unavailable.</h1>
<p>Please try again in a minute. If you were sending a report and did not see a report
number, send it again then. If a child is in immediate danger, call your local emergency
number now.</p></body></html>
"""


def unavailable_body() -> dict[str, Any]:
    """The API's error shape (config.errors) for a service that is down."""
    return {"code": "unavailable", "message": MESSAGE, "fields": {}}


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After, in the shape of the interface ``request`` came to."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(unavailable_body(), status=503)
    elif request.path.startswith("/ispws/"):
        from intake.ispws import SERVER_ERROR, report_response

        response = report_response(SERVER_ERROR, MESSAGE, http_status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def database_unreachable() -> bool:
    """Whether this request met a database error and the connection does not work now.
    Cheap when all is well: nothing is asked of the database unless an error occurred."""
    return bool(connection.errors_occurred) and not connection.is_usable()


class DatabaseUnavailableMiddleware:
    """Answers a request that failed for want of the database with 503 (see above): a
    view's error, caught here before Django logs it as a server error, and a view that
    answered 500 itself when the database failed under it (the XML interface answers every
    failure in its own shape). Early in MIDDLEWARE, inside the security headers' middleware,
    so that its answers carry them. (An error of a middleware's own, such as the session's
    failing to save, is answered by config.views.server_error, which does the same.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and database_unreachable():
            logger.warning("%s answered 503: the database is unavailable.", request.path)
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_UNAVAILABLE):
            logger.warning("%s answered 503: %s", request.path, exception)
            return unavailable_response(request)
        return None


class FailOpenRedisCacheClient(RedisCacheClient):
    """Each operation as Django's, except that when Redis cannot be reached it acts as an
    empty cache that keeps nothing: a read finds nothing, a write stores nothing, an
    increment finds no key. A warning says so, once a minute at most per process."""

    warned_at = -60.0

    def _down(self, error: redis.RedisError) -> None:
        now = time.monotonic()
        if now - FailOpenRedisCacheClient.warned_at >= 60:
            FailOpenRedisCacheClient.warned_at = now
            logger.warning("The cache (Redis) is unavailable, carrying on without it: %s", error)

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        try:
            return super().add(key, value, timeout)
        except redis.RedisError as error:
            self._down(error)
            return False

    def get(self, key: Any, default: Any) -> Any:
        try:
            return super().get(key, default)
        except redis.RedisError as error:
            self._down(error)
            return default

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        try:
            super().set(key, value, timeout)
        except redis.RedisError as error:
            self._down(error)

    def touch(self, key: Any, timeout: Any) -> bool:
        try:
            return super().touch(key, timeout)
        except redis.RedisError as error:
            self._down(error)
            return False

    def delete(self, key: Any) -> bool:
        try:
            return super().delete(key)
        except redis.RedisError as error:
            self._down(error)
            return False

    def get_many(self, keys: Any) -> dict[Any, Any]:
        try:
            return super().get_many(keys)
        except redis.RedisError as error:
            self._down(error)
            return {}

    def has_key(self, key: Any) -> bool:
        try:
            return super().has_key(key)
        except redis.RedisError as error:
            self._down(error)
            return False

    def incr(self, key: Any, delta: int) -> Any:
        try:
            return super().incr(key, delta)
        except redis.RedisError as error:
            self._down(error)
            raise ValueError(f"Key {key!r} not found (the cache is unavailable).") from error

    def set_many(self, data: Any, timeout: Any) -> None:
        try:
            super().set_many(data, timeout)
        except redis.RedisError as error:
            self._down(error)

    def delete_many(self, keys: Any) -> None:
        try:
            super().delete_many(keys)
        except redis.RedisError as error:
            self._down(error)

    def clear(self) -> bool:
        try:
            return super().clear()
        except redis.RedisError as error:
            self._down(error)
            return False


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, which carries on as an empty cache while Redis is down (see
    FailOpenRedisCacheClient): the cache holds only rate-limit counts and hints, and
    nothing the service promises may wait for it."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient
