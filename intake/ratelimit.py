"""Per-provider request limits, counted in the shared cache (Redis in production) so every
web process sees the same count."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

WINDOW_SECONDS = 60


def provider_rate_limit_wait(*, provider_id: int) -> int | None:
    """Count one request; return the seconds to wait when the provider is over its limit
    for this minute, or None when it may go ahead."""
    limit = settings.PROVIDER_RATE_LIMIT_PER_MINUTE
    if not limit:
        return None
    now = time.time()
    key = f"ratelimit:provider:{provider_id}:{int(now // WINDOW_SECONDS)}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    if count <= limit:
        return None
    return int(WINDOW_SECONDS - now % WINDOW_SECONDS) + 1


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
