import threading
import time

import pytest

from core.sized_cache import SizedCache


def test_values_stay_while_they_fit_and_the_least_recently_used_goes_first():
    cache = SizedCache(max_bytes=30, size_of=len)
    for key in "abc":
        cache.get(key, lambda key=key: key * 10)  # 10 bytes each: all three fit
    assert len(cache) == 3
    cache.get("a", lambda: pytest.fail("a is cached"))  # a is now the most recently used
    cache.get("d", lambda: "d" * 10)
    assert "b" not in cache and {"a", "c", "d"} == {key for key in "acd" if key in cache}
    assert cache.loads == 4


def test_more_than_four_values_are_held_when_memory_allows():
    """Regression (issue 27): a count of 4 reloaded every model on every rerun with 5 chosen."""
    cache = SizedCache(max_bytes=1000, size_of=lambda value: 10)
    for _round in range(3):
        for key in range(10):
            cache.get(key, lambda key=key: key)
    assert len(cache) == 10 and cache.loads == 10


def test_a_value_above_the_bound_is_kept_alone():
    cache = SizedCache(max_bytes=5, size_of=len)
    cache.get("small", lambda: "abc")
    cache.get("big", lambda: "x" * 50)
    assert "big" in cache and "small" not in cache


def test_threads_asking_for_one_value_at_once_load_it_once():
    cache, started = SizedCache(max_bytes=100, size_of=lambda value: 1), []

    def slow_load():
        started.append(1)
        time.sleep(0.2)
        return "model"

    threads = [threading.Thread(target=cache.get, args=("key", slow_load)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(started) == 1 and cache.loads == 1


def test_a_failed_load_is_not_cached_and_can_be_retried():
    cache = SizedCache(max_bytes=100, size_of=len)
    with pytest.raises(OSError):
        cache.get("key", lambda: (_ for _ in ()).throw(OSError("disk")))
    assert "key" not in cache and cache.get("key", lambda: "ok") == "ok"


def test_a_bound_of_nothing_is_refused():
    with pytest.raises(ValueError, match="above 0"):
        SizedCache(0, len)
