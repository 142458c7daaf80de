"""Lists a process keeps in memory and reloads from the database every so often (the
known-hash indexes, the anonymizer list): a change to the list reaches every worker
within that time, with no message between them."""

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Reloading(Generic[T]):
    """``load()``'s result, kept for ``seconds`` and loaded again on the next use after.
    Two threads may both reload at the turn; either result is the same list."""

    def __init__(self, load: Callable[[], T], *, seconds: float = 300) -> None:
        self.load = load
        self.seconds = seconds
        self.value: T | None = None
        self.expires = 0.0

    def get(self) -> T:
        if self.value is None or time.monotonic() >= self.expires:
            self.value = self.load()
            self.expires = time.monotonic() + self.seconds
        return self.value

    def forget(self) -> None:
        """Load again on the next use (after an import, and between tests)."""
        self.value = None
