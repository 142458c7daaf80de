"""Lists a process keeps in memory and reloads from the database every so often (the
known-hash indexes, the anonymizer list): a change to the list reaches every worker
within that time, with no message between them.

A list that names a ``version_key`` is also reloaded soon after a change: whoever changes
it calls ``announce_change(key)`` after the commit, which writes a new version to the
shared cache (Redis), and each process compares that version with the one it loaded at
most every LIST_VERSION_CHECK_SECONDS. If the cache is out of reach the lifetime still
holds."""

import time
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache

T = TypeVar("T")


def announce_change(version_key: str) -> None:
    """Tell every process holding the list under ``version_key`` to load it again."""
    cache.set(version_key, uuid.uuid4().hex, timeout=None)


class Reloading(Generic[T]):
    """``load()``'s result, kept for ``seconds`` and loaded again on the next use after
    (or, with a ``version_key``, on the first use after a check saw a new version). Two
    threads may both reload at the turn; either result is the same list."""

    def __init__(
        self,
        load: Callable[[], T],
        *,
        seconds: float = 300,
        version_key: str = "",
    ) -> None:
        self.load = load
        self.seconds = seconds
        self.version_key = version_key
        self.value: T | None = None
        self.expires = 0.0
        self.version: str | None = None
        self.next_check = 0.0

    def get(self) -> T:
        now = time.monotonic()
        if self.value is not None and self.version_key and now >= self.next_check:
            self.next_check = now + settings.LIST_VERSION_CHECK_SECONDS
            version = cache.get(self.version_key)
            if version is not None and version != self.version:
                self.value = None
        if self.value is None or now >= self.expires:
            # The version read before the load: a change announced during it is seen at
            # the next check, never lost.
            self.version = cache.get(self.version_key) if self.version_key else None
            self.value = self.load()
            self.expires = now + self.seconds
            self.next_check = now + settings.LIST_VERSION_CHECK_SECONDS
        return self.value

    def forget(self) -> None:
        """Load again on the next use (after an import, and between tests)."""
        self.value = None
