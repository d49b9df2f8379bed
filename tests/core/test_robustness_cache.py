"""Issue 30 item 5: a robustness cache is read bounded and only when its checksum matches; leftovers of killed
writers go. A fake run (its extra files in a dict) keeps these tests free of training."""

import hashlib
import io
import os
import time
import zipfile

import numpy as np
import pytest

from core import robustness
from core.robustness import CACHE_FILE, CHECKSUM_FILE, key


class FakeRun:
    run_id = "fake"

    def __init__(self):
        self.files = {}

    def extra(self, name):
        return self.files.get(name)

    def keep_extra(self, name, data):
        self.files[name] = data


@pytest.fixture
def cached(digits):
    run = FakeRun()
    robustness._write(run, digits, {key("shift", 1): np.zeros(len(digits.y_test), np.uint8)})
    assert list(robustness._read(run, digits)) == ["shift@1"]
    return run


def replace_member(run, name, payload, compression=zipfile.ZIP_STORED, checksum=True):
    """The cache with one member replaced (and, unless told otherwise, a checksum that matches)."""
    old = zipfile.ZipFile(io.BytesIO(run.files[CACHE_FILE]))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr("meta.npy", old.read("meta.npy"))
        archive.writestr(name, payload)
    run.files[CACHE_FILE] = buffer.getvalue()
    if checksum:
        run.files[CHECKSUM_FILE] = hashlib.sha256(buffer.getvalue()).hexdigest().encode()


def npy_header(shape, descr="|u1") -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    return header.getvalue()


def test_a_header_declaring_a_trillion_elements_is_refused_before_allocating(cached, digits):
    replace_member(cached, "shift@1.npy", npy_header((10**12,)) + b"\0" * 64)
    started = time.perf_counter()
    assert robustness._read(cached, digits) == {}  # old code: MemoryError, the page's generic error
    assert time.perf_counter() - started < 1


def test_a_zip_bomb_is_refused_without_decompressing_it(cached, digits):
    bomb = npy_header((len(digits.y_test),)) + b"\0" * (200 * 1024**2)  # 200 MB of zeros, ~200 kB compressed
    replace_member(cached, "shift@1.npy", bomb, compression=zipfile.ZIP_DEFLATED)
    started = time.perf_counter()
    assert robustness._read(cached, digits) == {}
    assert time.perf_counter() - started < 1


def test_a_plausible_tampered_cache_is_not_trusted(cached, digits):
    perfect = io.BytesIO()
    np.save(perfect, digits.y_test.astype(np.uint8))  # every prediction right: 100% at every level
    replace_member(cached, "shift@1.npy", perfect.getvalue(), checksum=False)
    assert robustness._read(cached, digits) == {}
    del cached.files[CHECKSUM_FILE]
    assert robustness._read(cached, digits) == {}


def test_a_killed_writers_temporary_files_are_removed(tmp_path):
    from core.runs import RunStore

    store = RunStore(tmp_path / "store")
    run_folder = store.root / "runs" / "0123456789abcdef"
    run_folder.mkdir(parents=True)
    leftovers = [run_folder / ".robustness.npz.1a2b3c4d.tmp", store.root / "networks" / ".mine.json.1a2b3c4d.tmp"]
    for leftover in leftovers:
        leftover.write_bytes(b"")
        os.utime(leftover, (time.time() - 3 * 24 * 3600,) * 2)
    RunStore(tmp_path / "store")
    assert not any(leftover.exists() for leftover in leftovers)
