"""The contract every class-digit store keeps (core/class_digits/storage.py), run against each backend in
conftest.BACKENDS: digits round-trip with label and time only, the cap holds, nothing is half-stored, concurrent
adds from threads and from processes all land, and the version changes with the set (and only that set)."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime

import numpy as np
import pytest

from core.class_digits.limits import SetFull
from core.runs import StoreError
from tests.core.class_digits.adders import add_digits


def image(value: int) -> np.ndarray:
    return np.full((28, 28), value, dtype=np.uint8)


def test_digits_round_trip_with_their_label_and_time_only(class_store):
    before = datetime.now(UTC).replace(microsecond=0)
    first = class_store.add("7b", 3, image(30))
    second = class_store.add("7B", 8, image(80))
    found = class_store.read("7B")
    assert found.code == "7B" and list(found.ids) == [first, second] and second > first
    assert list(found.labels) == [3, 8] and found.labels.dtype == np.uint8
    assert found.images.shape == (2, 28, 28) and found.images.dtype == np.uint8
    assert (found.images[0] == 30).all() and (found.images[1] == 80).all()
    assert all(datetime.fromisoformat(moment) >= before for moment in found.added_at)
    assert list(class_store.counts("7B")) == [0, 0, 0, 1, 0, 0, 0, 0, 1, 0]
    assert class_store.sets() == {"7B": 2}


def test_an_unknown_set_is_empty(class_store):
    found = class_store.read("nobody")
    assert len(found) == 0 and found.images.shape == (0, 28, 28) and found.version == "0-0"
    assert class_store.version("nobody") == "0-0" and class_store.counts("nobody").sum() == 0


@pytest.mark.parametrize("label, pixels, message", [
    (10, image(1), "label"), (-1, image(1), "label"), (True, image(1), "label"), ("3", image(1), "label"),
    (3, np.zeros((28, 28), np.float32), "uint8"), (3, np.zeros((784,), np.uint8), "28×28"),
])
def test_a_bad_label_or_image_is_refused_and_nothing_is_stored(class_store, label, pixels, message):
    with pytest.raises(ValueError, match=message):
        class_store.add("A", label, pixels)
    with pytest.raises(ValueError, match="Digit 2"):
        class_store.add_many("A", [1, label], [image(1), pixels])
    assert len(class_store.read("A")) == 0


def test_a_bad_code_is_refused(class_store):
    for code in ("a b", "../x", "a_b", "x" * 33, "-a"):
        with pytest.raises(ValueError, match="class code"):
            class_store.add(code, 1, image(1))


def test_the_cap_holds_and_a_refused_import_adds_nothing(class_store):
    class_store.add_many("C", [1, 2, 3], [image(1)] * 3, cap=4)
    with pytest.raises(SetFull, match="Nothing was added"):
        class_store.add_many("C", [1, 2], [image(1)] * 2, cap=4)
    class_store.add("C", 4, image(1), cap=4)
    with pytest.raises(SetFull, match="full"):
        class_store.add("C", 5, image(1), cap=4)
    assert len(class_store.read("C")) == 4


def test_a_write_failing_half_way_leaves_nothing_of_that_call(class_store, made, monkeypatch):
    class_store.add("F", 1, image(1))
    made[2](monkeypatch, 2)  # the second digit of the next call cannot be written
    with pytest.raises(Exception) as failure:
        class_store.add_many("F", [2, 3, 4], [image(2), image(3), image(4)])
    assert isinstance(failure.value, (OSError, StoreError))
    monkeypatch.undo()
    found = class_store.read("F")
    assert list(found.labels) == [1]


def test_the_version_names_the_sets_content_and_changes_only_for_that_set(class_store):
    """After every change the version is new unless the set holds exactly what it held at that version before
    (the newest digit added and removed again): one version, one content."""
    seen = {class_store.version("V"): ()}
    class_store.add("W", 1, image(1))
    other = class_store.version("W")

    def changed() -> None:
        version, ids = class_store.version("V"), tuple(class_store.read("V").ids)
        assert seen.setdefault(version, ids) == ids, (version, ids, seen)
        seen[version] = ids

    ids = class_store.add_many("V", [1, 2, 3], [image(1)] * 3)
    changed()
    class_store.delete("V", [ids[1]])           # a deletion lowers the count
    changed()
    class_store.add("V", 2, image(2))           # back to 3 digits: the last id is new
    changed()
    class_store.delete("V", [class_store.read("V").ids[-1]])  # the newest removed: back to the same content
    changed()
    class_store.delete("V", [ids[0]])
    changed()
    class_store.add_many("V", [7, 7], [image(7)] * 2)
    changed()
    assert len(seen) == 6  # five changes, one of them back to an earlier content
    assert class_store.version("W") == other


def test_ids_are_never_reused_after_a_clear(class_store):
    ids = class_store.add_many("R", [1, 2], [image(1)] * 2)
    version = class_store.version("R")
    assert class_store.clear("R") == 2 and len(class_store.read("R")) == 0
    assert class_store.sets() == {}
    again = class_store.add_many("R", [5, 6], [image(5)] * 2)
    assert min(again) > max(ids) and class_store.version("R") != version


def test_delete_removes_only_the_named_digits_of_that_set(class_store):
    mine = class_store.add_many("D", [1, 2, 3], [image(1)] * 3)
    theirs = class_store.add("E", 1, image(1))
    assert class_store.delete("D", [mine[0], mine[2], theirs, 10**9]) == 2
    assert list(class_store.read("D").ids) == [mine[1]] and list(class_store.read("E").ids) == [theirs]


def test_adds_from_eight_threads_at_once_all_land_with_their_own_ids(class_store):
    barrier = threading.Barrier(8)
    found, errors = [], []

    def adder(label: int) -> None:
        barrier.wait()
        try:
            found.extend(class_store.add("T", label, image(label)) for _ in range(12))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=adder, args=(label,)) for label in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = class_store.read("T")
    assert len(found) == len(set(found)) == 96 and sorted(found) == list(stored.ids)
    assert list(class_store.counts("T")[:8]) == [12] * 8
    for label in range(8):  # each digit's pixels are its own label's, not another writer's
        assert (stored.images[stored.labels == label] == label).all()


def test_the_cap_holds_when_threads_race_for_the_last_places(class_store):
    barrier = threading.Barrier(6)
    stored, refused = [], []

    def adder() -> None:
        barrier.wait()
        for _ in range(5):
            try:
                stored.append(class_store.add("K", 1, image(1), cap=17))
            except SetFull:
                refused.append(1)

    threads = [threading.Thread(target=adder) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stored) == 17 and len(refused) == 13 and len(class_store.read("K")) == 17


def test_adds_from_two_processes_at_once_all_land(class_store, made):
    kind, where = made[1]
    start_at = time.time() + 4  # both spawned processes are up (numpy, the store) by then
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.starmap(add_digits, [(kind, where, "P", 40, 1, start_at), (kind, where, "P", 40, 2, start_at)])
    ids = results[0] + results[1]
    stored = class_store.read("P")
    assert len(set(ids)) == 80 and sorted(ids) == list(stored.ids)
    assert list(class_store.counts("P")[1:3]) == [40, 40]
