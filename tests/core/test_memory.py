"""Memory housekeeping between trainings (the figures are benchmarks/bench_soak.py's)."""

import gc
import weakref

from core import memory


class RecordingLibc:
    def __init__(self):
        self.calls = []

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


def test_freed_memory_is_collected_frozen_once_and_trimmed(monkeypatch):
    libc = RecordingLibc()
    monkeypatch.setattr(memory, "_glibc", lambda: libc)
    monkeypatch.setattr(memory, "_long_lived_frozen", False)

    class Cycle:
        pass

    cycle = Cycle()
    cycle.self = cycle
    collected = []
    weakref.finalize(cycle, collected.append, "freed")
    del cycle
    memory.return_freed_memory()
    assert collected == ["freed"]  # garbage in a reference cycle is freed at once
    assert gc.get_freeze_count() > 0 and memory._long_lived_frozen
    memory.return_freed_memory()
    assert libc.calls == [("malloc_trim", 0), ("malloc_trim", 0)]

