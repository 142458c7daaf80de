"""Request limits, counted in the shared cache (Redis in production) so every web process
sees the same count: per provider on the API, per client on the public pages. A client is
known only by a keyed hash of its address, which expires with its window: the address
itself is never stored."""

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

WINDOW_SECONDS = 60


def _window(name: str, window: int) -> tuple[str, int]:
    """The cache key of ``name``'s current window, and the seconds until it ends."""
    now = time.time()
    return f"ratelimit:{name}:{int(now // window)}", int(window - now % window) + 1


def count_and_wait(name: str, *, limit: int, window: int = WINDOW_SECONDS) -> int | None:
    """Count one event for ``name``; return the seconds to wait when that makes more than
    ``limit`` in this window, or None (also when ``limit`` is 0: no limit)."""
    if not limit:
        return None
    key, remaining = _window(name, window)
    cache.add(key, 0, timeout=window * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window * 2)
        count = 1
    return None if count <= limit else remaining


def wait_if_reached(name: str, *, limit: int, window: int) -> int | None:
    """The seconds to wait when ``limit`` events were already counted for ``name`` in this
    window (counting nothing), or None."""
    if not limit:
        return None
    key, remaining = _window(name, window)
    return remaining if int(cache.get(key) or 0) >= limit else None


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's, or, behind TRUSTED_PROXY_COUNT proxies of
    our own, the one the outermost of them saw (X-Forwarded-For; entries a client wrote
    itself sit further left and are ignored)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        addresses = [address.strip() for address in forwarded if address.strip()]
        if len(addresses) >= proxies:
            return addresses[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def client_key(request: HttpRequest) -> str:
    """The client, as a keyed hash of its address: the same for every request from it,
    meaningless without the server's secret."""
    address = client_address(request)
    return salted_hmac("tipline.ratelimit.client", address, algorithm="sha256").hexdigest()[:32]


def provider_rate_limit_wait(*, provider_id: int) -> int | None:
    """Count one request; return the seconds to wait when the provider is over its limit
    for this minute, or None when it may go ahead."""
    return count_and_wait(f"provider:{provider_id}", limit=settings.PROVIDER_RATE_LIMIT_PER_MINUTE)


class ProviderRateThrottle(BaseThrottle):
    retry_after: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        provider = getattr(request.user, "provider", None)
        if provider is None:
            return True
        self.retry_after = provider_rate_limit_wait(provider_id=provider.pk)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after
