"""The contract every store backend keeps (core/runs/backend.py): bytes by run id, put and delete in one step,
one lock holder at a time, damage found on read. Run against each backend in conftest.BACKENDS."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping

import pytest

from core.config import TrainConfig
from core.runs.errors import LockTimeout
from core.runs.run_files import MANIFEST_FILE, MODEL_FILE, PROBABILITIES_FILE, RUN_FILE, RunFiles
from tests.fakes import FakeTrainer

RUN = "0123456789abcdef"
FILES = {"a.bin": b"\x00\x01" * 1000, "b.json": b'{"x": 1}'}


def test_put_then_get_sizes_digest_and_local_path_give_the_bytes_back(backend):
    backend.put(RUN, FILES)
    assert {name: backend.get(RUN, name) for name in FILES} == FILES
    assert backend.sizes(RUN) == {name: len(data) for name, data in FILES.items()}
    assert backend.digest(RUN, "a.bin") == hashlib.sha256(FILES["a.bin"]).hexdigest()
    assert backend.local_path(RUN, "b.json").read_bytes() == FILES["b.json"]
    assert backend.run_ids() == [RUN]


def test_absent_runs_and_files_are_none_or_key_errors(backend):
    assert backend.sizes(RUN) is None and backend.run_ids() == []
    with pytest.raises(KeyError):
        backend.get(RUN, "a.bin")
    backend.put(RUN, FILES)
    for missing in (lambda: backend.get(RUN, "c.bin"), lambda: backend.digest(RUN, "c.bin"),
                    lambda: backend.local_path(RUN, "c.bin"), lambda: backend.add("fedcba9876543210", "x", b"")):
        with pytest.raises(KeyError):
            missing()


def test_a_put_replaces_the_whole_run_and_add_changes_one_file(backend):
    backend.put(RUN, {**FILES, "extra.npz": b"old cache"})
    backend.put(RUN, {"a.bin": b"new"})
    assert backend.sizes(RUN) == {"a.bin": 3}  # nothing of the old run is left
    backend.add(RUN, "extra.npz", b"cache")
    backend.add(RUN, "extra.npz", b"cache 2")
    assert backend.get(RUN, "extra.npz") == b"cache 2" and backend.get(RUN, "a.bin") == b"new"


def test_delete_removes_the_run_once(backend):
    backend.put(RUN, FILES)
    assert backend.delete(RUN) is True
    assert backend.sizes(RUN) is None and backend.run_ids() == []
    assert backend.delete(RUN) is False


class FailingHalfway(Mapping):
    """Files whose second one cannot be produced: a writer interrupted half-way (disk full, Ctrl-C, a crash)."""

    def __init__(self, error: BaseException):
        self.error = error

    def __getitem__(self, name):
        if name == "b.json":
            raise self.error
        return FILES[name]

    def __iter__(self):
        return iter(FILES)

    def __len__(self):
        return len(FILES)

    def items(self):
        return ((name, self[name]) for name in self)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_an_interrupted_write_leaves_nothing_and_keeps_what_was_there(backend, error):
    with pytest.raises(type(error)):
        backend.put(RUN, FailingHalfway(error))
    assert backend.sizes(RUN) is None and backend.run_ids() == []  # nothing half-visible
    backend.put(RUN, {"a.bin": b"old"})
    with pytest.raises(type(error)):
        backend.put(RUN, FailingHalfway(error))
    assert backend.sizes(RUN) == {"a.bin": 3} and backend.get(RUN, "a.bin") == b"old"  # the old run, whole
    backend.remove_leftovers()  # what a killed writer leaves is cleared without touching runs
    assert backend.get(RUN, "a.bin") == b"old"


def test_a_lock_has_one_holder_at_a_time(backend):
    held, release = threading.Event(), threading.Event()

    def hold():
        with backend.lock(RUN, timeout=5):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        with pytest.raises(LockTimeout):
            with backend.lock(RUN, timeout=0.2):
                pass
        with backend.lock("fedcba9876543210", timeout=0):  # another run's lock is free
            pass
    finally:
        release.set()
        holder.join()
    with backend.lock(RUN, timeout=0):  # free again once released
        pass


@pytest.mark.parametrize("bad_id, bad_name", [("../../etc", "../run.json"), ("a/b", "a/b"), ("", ""),
                                               ("abc def", ".hidden"), ("x\x00", "x\x00")])
def test_run_ids_and_file_names_cannot_reach_outside_the_store(backend, bad_id, bad_name):
    with pytest.raises(ValueError):
        backend.put(bad_id, FILES)
    with pytest.raises(ValueError):
        backend.put(RUN, {bad_name: b""})
    assert backend.run_ids() == []


@pytest.fixture
def stored(backend, digits):
    files = RunFiles(backend)
    run_id = files.write(FakeTrainer()(TrainConfig(sample_size=100, num_epochs=1), digits))
    return files, run_id


def test_a_run_written_through_the_backend_reads_back_whole(stored, digits):
    files, run_id = stored
    run, problem = files.inspect(run_id)
    assert problem is None and run.config == TrainConfig(sample_size=100, num_epochs=1)
    assert run.probabilities().shape == (len(digits.y_test), 10)
    assert set(files.backend.sizes(run_id)) == {RUN_FILE, PROBABILITIES_FILE, MODEL_FILE, MANIFEST_FILE}


@pytest.mark.parametrize("name", [RUN_FILE, PROBABILITIES_FILE, MODEL_FILE])
def test_corrupt_bytes_of_the_same_size_are_reported_never_served(stored, backend_and_damage, name):
    files, run_id = stored
    damage = backend_and_damage[1]
    original = files.backend.get(run_id, name)
    damage(run_id, name, bytes(len(original)))  # zero-filled: the size still matches
    run, problem = files.inspect(run_id)
    assert run is None and problem and (name in problem or RUN_FILE in problem)


def test_a_truncated_file_is_reported_with_its_sizes(stored, backend_and_damage):
    files, run_id = stored
    original = files.backend.get(run_id, PROBABILITIES_FILE)
    backend_and_damage[1](run_id, PROBABILITIES_FILE, original[:100])
    assert f"{PROBABILITIES_FILE} is truncated: 100 bytes" in files.inspect(run_id)[1]
