"""Memory housekeeping between trainings (the figures are benchmarks/bench_soak.py's)."""

import gc
import time
import weakref

import numpy as np
import pytest

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



needs_proc = pytest.mark.skipif(memory.resident_megabytes() is None,
                                reason="resident memory is read from Linux's /proc")


@needs_proc
def test_the_peak_counts_memory_allocated_and_freed_inside_the_block():
    before = memory.resident_megabytes()
    with memory.PeakMemory(interval=0.01) as peak:
        block = np.ones(300 * 1024**2 // 8)  # 300 MB, written, so resident
        time.sleep(0.1)
        del block
    after = memory.resident_megabytes()
    assert peak.megabytes >= before + 250
    assert after < peak.megabytes - 250  # freed before the block ended: only the sampler saw it


def test_where_memory_cannot_be_read_the_peak_is_none_not_zero(monkeypatch):
    import psutil

    def unreadable(self):
        raise psutil.AccessDenied(self.pid)

    monkeypatch.setattr(psutil.Process, "memory_info", unreadable)
    assert memory.resident_megabytes() is None and memory.process_megabytes(1) is None
    with memory.PeakMemory(interval=0.01) as peak:
        time.sleep(0.03)
    assert peak.megabytes is None
