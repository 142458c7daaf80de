"""Lists a process keeps in memory and reloads from the database every so often (the
known-hash indexes, the anonymizer list): a change to the list reaches every worker
within that time, with no message between them.

A list that names a ``version_key`` is also reloaded soon after a change: whoever changes
it calls ``announce_change(key)`` after the commit, which writes a new version to the
shared cache (Redis), and each process compares that version with the one it loaded at
most every LIST_VERSION_CHECK_SECONDS. So that a burst of changes does not keep every
process reloading a list of millions of entries, a list is reloaded for a change at most
every LIST_RELOAD_MIN_SECONDS. If the cache is out of reach the lifetime still holds."""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

T = TypeVar("T")

# After a reload that failed, how long the list as it was goes on being used before the
# next try.
RETRY_AFTER_FAILURE_SECONDS = 10.0


def announce_change(version_key: str) -> None:
    """Tell every process holding the list under ``version_key`` to load it again."""
    cache.set(version_key, uuid.uuid4().hex, timeout=None)


class Reloading(Generic[T]):
    """``load()``'s result, kept for ``seconds`` and loaded again on the next use after
    (or, with a ``version_key``, on a use after a check saw a new version). One thread
    loads; the others go on with the list they had meanwhile, never with none. A reload
    that fails keeps the list as it was, for a few seconds more."""

    def __init__(
        self, load: Callable[[], T], *, seconds: float = 300, version_key: str = ""
    ) -> None:
        self.load = load
        self.seconds = seconds
        self.version_key = version_key
        self.value: T | None = None
        self.expires = 0.0
        self.loaded_at = 0.0
        self.version: str | None = None
        self.next_check = 0.0
        # Counts forget() calls: a load that began before one is out of date when done.
        self.generation = 0
        self.loading = threading.Lock()

    def get(self) -> T:
        now = time.monotonic()
        value = self.value
        if value is not None and now < self.expires and not self.changed_elsewhere(now):
            return value
        if value is not None and not self.loading.acquire(blocking=False):
            return value  # another thread is loading it: go on with this one meanwhile
        if value is None:
            self.loading.acquire()
        try:
            if self.value is not None and self.value is not value:
                return self.value  # another thread loaded it meanwhile
            return self.load_now()
        finally:
            self.loading.release()

    def load_now(self) -> T:
        generation = self.generation
        # The version read before the load: a change announced during it is seen at the
        # next check, never lost.
        version = cache.get(self.version_key) if self.version_key else None
        try:
            loaded = self.load()
        except Exception:
            if self.value is None:
                raise
            logger.exception("Reloading a list failed; going on with the one loaded before")
            self.expires = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
            return self.value
        now = time.monotonic()
        self.version, self.value = version, loaded
        self.loaded_at, self.expires = now, now + self.seconds
        self.next_check = now + settings.LIST_VERSION_CHECK_SECONDS
        if self.generation != generation:  # forgotten while loading: load again next time
            self.expires = self.loaded_at = 0.0
        return loaded

    def changed_elsewhere(self, now: float) -> bool:
        """Whether a check falls due and finds a version other than the one loaded (and
        the last load is LIST_RELOAD_MIN_SECONDS old)."""
        if not self.version_key or now < self.next_check:
            return False
        if now < self.loaded_at + settings.LIST_RELOAD_MIN_SECONDS:
            return False
        self.next_check = now + settings.LIST_VERSION_CHECK_SECONDS
        version = cache.get(self.version_key)
        return version is not None and version != self.version

    def forget(self) -> None:
        """Load again on the next use (after a change in this process is committed, and
        between tests); until then, other threads go on with the list as it was."""
        self.generation += 1
        self.expires = self.loaded_at = 0.0
