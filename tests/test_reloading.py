"""Lists each process keeps in memory (config/reloading.py): reloaded after their lifetime,
and soon after a change another process announces, with the shared cache down or not."""

import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from config import reloading
from config.reloading import Reloading, announce_change

KEY = "test-list:version"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Clock:
    """config.reloading's clock only (the process's time.monotonic goes on)."""
    settings.LIST_VERSION_CHECK_SECONDS = 5
    settings.LIST_RELOAD_MIN_SECONDS = 0
    clock = Clock()
    monkeypatch.setattr(reloading, "time", SimpleNamespace(monotonic=clock))
    return clock


def counting_list() -> tuple[Reloading[int], list[int]]:
    loads: list[int] = []

    def load() -> int:
        loads.append(len(loads) + 1)
        return len(loads)

    return Reloading(load, seconds=300, version_key=KEY), loads


def test_a_change_announced_elsewhere_is_loaded_at_the_first_check_after_it(clock: Clock) -> None:
    listing, loads = counting_list()

    assert listing.get() == 1
    announce_change(KEY)  # another process changed the list
    clock.now += 4
    before_the_check = listing.get()
    clock.now += 1
    after_the_check = listing.get()
    clock.now += 60
    unchanged_since = listing.get()

    assert (before_the_check, after_the_check, unchanged_since) == (1, 2, 2)
    assert len(loads) == 2


def test_a_burst_of_changes_reloads_the_list_at_most_once_in_the_minimum_interval(
    clock: Clock, settings: Any
) -> None:
    settings.LIST_RELOAD_MIN_SECONDS = 30
    listing, loads = counting_list()
    listing.get()

    for _ in range(12):  # a change every 5 s for a minute
        announce_change(KEY)
        clock.now += 5
        listing.get()

    assert len(loads) == 3  # at the start, after 30 s and after 60 s


def test_threads_go_on_with_the_list_they_had_while_one_loads_it_again(clock: Clock) -> None:
    started, finish = threading.Event(), threading.Event()
    loads: list[str] = []

    def slow_load() -> str:
        loads.append("load")
        if len(loads) == 2:  # the reload
            started.set()
            assert finish.wait(timeout=30)
        return f"list {len(loads)}"

    listing = Reloading(slow_load, seconds=300)
    assert listing.get() == "list 1"
    listing.forget()
    reloading_thread = threading.Thread(target=listing.get)
    reloading_thread.start()
    assert started.wait(timeout=30)

    meanwhile = listing.get()  # a reader while the reload runs: not held up
    finish.set()
    reloading_thread.join(timeout=30)

    assert meanwhile == "list 1"
    assert listing.get() == "list 2"
    assert loads == ["load", "load"]


def test_without_news_the_list_is_kept_for_its_lifetime(clock: Clock) -> None:
    listing, loads = counting_list()
    announce_change(KEY)

    listing.get()
    for _ in range(59):
        clock.now += 5
        listing.get()
    assert len(loads) == 1
    clock.now += 5  # 300 s
    listing.get()

    assert len(loads) == 2


def test_with_the_shared_cache_out_of_reach_the_lifetime_still_holds(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing, loads = counting_list()
    listing.get()
    monkeypatch.setattr(reloading.cache, "get", lambda *args, **kwargs: None)  # fails open

    clock.now += 10
    listing.get()
    clock.now += 300
    listing.get()

    assert len(loads) == 2


def test_a_list_without_a_version_key_never_asks_the_cache(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []
    monkeypatch.setattr(reloading.cache, "get", lambda *args, **kwargs: asked.append(args))
    listing = Reloading(lambda: 1, seconds=300)

    listing.get()
    clock.now += 10
    listing.get()

    assert asked == []


def test_a_change_announced_while_the_list_loads_is_loaded_at_the_next_check(
    clock: Clock,
) -> None:
    loads: list[int] = []

    def load() -> int:
        loads.append(len(loads) + 1)
        if len(loads) == 1:
            announce_change(KEY)  # committed elsewhere while this load reads the list
        return len(loads)

    listing = Reloading(load, seconds=300, version_key=KEY)
    listing.get()
    clock.now += 5

    assert listing.get() == 2


def test_a_list_forgotten_while_another_thread_loads_it_is_loaded_again(clock: Clock) -> None:
    reading, go_on = threading.Event(), threading.Event()
    loads: list[int] = []

    def load() -> int:
        loads.append(len(loads) + 1)
        if len(loads) == 1:  # reads the list as it was before the change
            reading.set()
            assert go_on.wait(timeout=30)
        return len(loads)

    listing = Reloading(load, seconds=300)
    first = threading.Thread(target=listing.get)
    first.start()
    assert reading.wait(timeout=30)
    listing.forget()  # this thread changed the list and committed
    go_on.set()
    first.join(timeout=30)

    assert listing.get() == 2  # not the load that began before the change


def in_turn(*outcomes: str | Exception) -> Callable[[], str]:
    """A load giving each of ``outcomes`` in turn, raising those that are exceptions."""
    pending = list(outcomes)

    def load() -> str:
        outcome = pending.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return load


def test_a_reload_that_fails_keeps_the_list_as_it_was_and_tries_again_soon(
    clock: Clock,
) -> None:
    listing = Reloading(in_turn("list 1", RuntimeError("database down"), "list 2"), seconds=300)
    listing.get()
    clock.now += 300

    assert listing.get() == "list 1"  # the reload failed
    clock.now += reloading.RETRY_AFTER_FAILURE_SECONDS
    assert listing.get() == "list 2"


def test_a_first_load_that_fails_raises_and_the_next_use_tries_again() -> None:
    listing = Reloading(in_turn(RuntimeError("database down"), "list 1"), seconds=300)
    with pytest.raises(RuntimeError):
        listing.get()

    assert listing.get() == "list 1"
