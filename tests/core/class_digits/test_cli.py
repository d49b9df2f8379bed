"""`python -m core class-digits list|export|import|evaluate`, with bad files (fake trainer, offline digits)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from core import cli
from core.class_digits import digit_store
from core.class_digits.limits import MAX_SET_SIZE
from core.class_digits.npz import read_npz
from core.runs import RunStore


def run_cli(capsys, *argv):
    code = cli.main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, err


def mnist_like(path, count=30, seed=0, **overrides):
    rng = np.random.default_rng(seed)
    arrays = {"x": rng.integers(0, 256, (count, 28, 28), dtype=np.uint8),
              "y": (np.arange(count) % 10).astype(np.uint8), **overrides}
    np.savez(path, **arrays)
    return path, arrays


def test_import_export_and_list_round_trip(capsys, tmp_path):
    path, arrays = mnist_like(tmp_path / "ours.npz")
    code, out, _ = run_cli(capsys, "class-digits", "import", path, "--class", "7b")
    assert code == 0 and "added 30 digits to class 7B" in out
    assert run_cli(capsys, "class-digits", "list", "--json")[1] == json.dumps({"7B": 30}, indent=2) + "\n"
    code, out, _ = run_cli(capsys, "class-digits", "export", tmp_path / "back.npz", "--class", "7B")
    assert code == 0 and "wrote 30 digits" in out
    x, y = read_npz(tmp_path / "back.npz")
    assert (x == arrays["x"]).all() and (y == arrays["y"]).all()
    with np.load(tmp_path / "back.npz") as written:  # the layout keras.datasets.mnist has: x uint8, y uint8
        assert set(written.files) == {"x", "y"} and written["x"].dtype == np.uint8 and written["y"].shape == (30,)
    assert "7B" in run_cli(capsys, "class-digits", "list")[1]


def bad_files(tmp_path):
    rng = np.random.default_rng(1)
    digits = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    cases = {
        "floats.npz": ({"x": digits.astype(np.float64), "y": np.arange(4)}, "x is float64 (4, 28, 28)"),
        "flat.npz": ({"x": digits.reshape(4, 784), "y": np.arange(4)}, "must be (N, 28, 28) uint8"),
        "labels.npz": ({"x": digits, "y": np.array([1, 2, 10, -1])}, "labels outside 0-9 (-1, 10)"),
        "float_labels.npz": ({"x": digits, "y": np.arange(4.0)}, "y is float64"),
        "count.npz": ({"x": digits, "y": np.arange(3)}, "x holds 4 digits but y 3 labels"),
        "no_y.npz": ({"x": digits}, "has no array y"),
        "empty.npz": ({"x": digits[:0], "y": np.arange(0)}, "holds no digits"),
        "objects.npz": ({"x": digits, "y": np.array([1, "a", None, 2], dtype=object)}, "Python objects"),
        "too_many.npz": ({"x": np.zeros((MAX_SET_SIZE + 1, 28, 28), np.uint8),
                          "y": np.zeros(MAX_SET_SIZE + 1, np.uint8)}, f"holds {MAX_SET_SIZE + 1:,} digits"),
    }
    for name, (arrays, _) in cases.items():
        np.savez(tmp_path / name, **arrays)
    (tmp_path / "text.npz").write_text("not a zip")
    cases["text.npz"] = (None, "is not an .npz archive")
    with zipfile.ZipFile(tmp_path / "garbled.npz", "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY\x01\x00garbage!")
        archive.writestr("y.npy", b"")
    cases["garbled.npz"] = (None, "x.npy is not a numpy array")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(digits))
    with zipfile.ZipFile(tmp_path / "truncated.npz", "w") as archive:
        archive.writestr("x.npy", header.getvalue() + digits.tobytes()[:100])
        archive.writestr("y.npy", b"")
    cases["truncated.npz"] = (None, "x holds 100 bytes, not the 3,136 its header declares")
    cases["missing.npz"] = (None, "cannot be read (No such file")
    return cases


def test_a_bad_file_is_one_line_exit_2_and_adds_nothing(capsys, tmp_path):
    for name, (_, message) in bad_files(tmp_path).items():
        code, out, err = run_cli(capsys, "class-digits", "import", tmp_path / name, "--class", "B")
        assert (code, out) == (2, ""), name
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, (name, err)
    assert digit_store(RunStore()).sets() == {}


def npy(shape, descr="|u1", data=b""):
    """An .npy member whose header declares `shape` (whatever the data holds)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    return header.getvalue() + data


def test_a_negative_size_in_a_header_is_refused_before_its_data_is_decompressed(capsys, tmp_path, monkeypatch):
    """numpy's header parser accepts (-1, 28, 28); read(negative) then decompressed the whole member: 300 KB of
    zeros on disk became 300 MB in memory (a 64 MB file, tens of GB)."""
    read_sizes = []
    real_read = zipfile.ZipExtFile.read
    monkeypatch.setattr(zipfile.ZipExtFile, "read", lambda self, n=-1: read_sizes.append(n) or real_read(self, n))
    negative_x = {"x.npy": npy((-1, 28, 28), data=bytes(4_000_000)), "y.npy": npy((3,), data=bytes(3))}
    negative_y = {"x.npy": npy((3, 28, 28), data=bytes(2352)), "y.npy": npy((-1,), "<i8", bytes(4_000_000))}
    for name, members in {"x.npz": negative_x, "y.npz": negative_y}.items():
        with zipfile.ZipFile(tmp_path / name, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        read_sizes.clear()
        code, out, err = run_cli(capsys, "class-digits", "import", tmp_path / name, "--class", "B")
        assert (code, out) == (2, "") and "negative size" in err and err.count("\n") == 1, err
        assert all(0 <= size <= 4096 for size in read_sizes), (name, read_sizes)
    assert digit_store(RunStore()).sets() == {}


def test_a_damaged_or_unreadable_member_is_one_line_not_a_traceback(capsys, tmp_path):
    """A deflate stream with an invalid block raised zlib.error out of the CLI (a traceback, exit 1)."""
    with zipfile.ZipFile(tmp_path / "good.npz", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", npy((3, 28, 28), data=bytes(2352)))
        archive.writestr("y.npy", npy((3,), data=bytes(3)))
    damaged = bytearray((tmp_path / "good.npz").read_bytes())
    start = 30 + int.from_bytes(damaged[26:28], "little") + int.from_bytes(damaged[28:30], "little")
    damaged[start] = 0xFF  # the first deflate block of x.npy: block type 3, which does not exist
    (tmp_path / "damaged.npz").write_bytes(bytes(damaged))
    encrypted = bytearray((tmp_path / "good.npz").read_bytes())
    for at in (6, encrypted.rfind(b"PK\x01\x02") + 8):  # the first member marked encrypted, locally and centrally
        encrypted[at] |= 1
    (tmp_path / "encrypted.npz").write_bytes(bytes(encrypted))
    for name in ("damaged.npz", "encrypted.npz"):
        code, out, err = run_cli(capsys, "class-digits", "import", tmp_path / name, "--class", "B")
        assert (code, out) == (2, "") and "is not an .npz archive" in err and err.count("\n") == 1, (name, err)
    assert digit_store(RunStore()).sets() == {}


def test_a_file_too_large_to_read_is_refused_before_reading(capsys, tmp_path, monkeypatch):
    from core.class_digits import npz

    path, _ = mnist_like(tmp_path / "big.npz")
    monkeypatch.setattr(npz, "MAX_FILE_BYTES", 1000)
    code, _, err = run_cli(capsys, "class-digits", "import", path, "--class", "B")
    assert code == 2 and "too large" in err


def test_an_import_that_does_not_fit_the_set_adds_nothing(capsys, tmp_path, monkeypatch):
    path, _ = mnist_like(tmp_path / "ours.npz", count=30)
    store = digit_store(RunStore())
    store.add_many("B", [1] * 4990, [np.zeros((28, 28), np.uint8)] * 4990)
    code, _, err = run_cli(capsys, "class-digits", "import", path, "--class", "B")
    assert code == 2 and "do not fit" in err and "Nothing was added" in err
    assert store.sets() == {"B": 4990}


@pytest.mark.parametrize("argv, message", [
    (["export", "out.npz", "--class", "nobody"], "class NOBODY has no digits"),
    (["export", "out.npz", "--class", "a b"], "class code holds only"),
    (["import", "x.npz"], "the following arguments are required: --class"),
    (["evaluate", "--class", "empty"], "class EMPTY has no digits"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_arguments_are_one_line_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, "class-digits", *argv)
    assert code == 2 and message in err and err.count("\n") == 1


def test_export_to_a_folder_is_one_line(capsys, tmp_path):
    path, _ = mnist_like(tmp_path / "ours.npz")
    run_cli(capsys, "class-digits", "import", path, "--class", "E")
    code, _, err = run_cli(capsys, "class-digits", "export", tmp_path, "--class", "E")
    assert code == 2 and "Cannot write" in err


def test_evaluate_reopens_or_trains_the_runs_and_prints_the_verdict(capsys, tmp_path, fake_trainer):
    path, arrays = mnist_like(tmp_path / "ours.npz", count=40)
    run_cli(capsys, "class-digits", "import", path, "--class", "E")
    code, out, err = run_cli(capsys, "class-digits", "evaluate", "--class", "E", "--architectures", "flat", "conv",
                             "--sample-size", "100", "--epochs", "1", "--seed", "2", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["class"] == "E" and record["num_digits"] == 40 and len(fake_trainer.calls) == 2
    assert [network["label"] for network in record["networks"]] == ["flat", "conv"]
    store = RunStore()
    for network in record["networks"]:  # each accuracy is the stored model's on the imported digits
        run = store.get(network["run_id"])
        assert run.config.seed == 2 and network["mnist_accuracy"] == pytest.approx(run.test_accuracy)
        predicted = run.load_model().predict(arrays["x"][..., None] / 255.0, verbose=0).argmax(axis=1)
        assert network["accuracy"] == pytest.approx((predicted == arrays["y"]).mean())
    mcnemar = record["mcnemar"]
    assert set(mcnemar) == {"only_first_right", "only_second_right", "p_value"} and 0 <= mcnemar["p_value"] <= 1
    assert record["difference"]["first"] == "conv" and record["sentence"].startswith("On 40 digits from this class")
    code, out, _ = run_cli(capsys, "class-digits", "evaluate", "--class", "E", "--sample-size", "100", "--epochs",
                           "1", "--seed", "2")
    assert code == 0 and len(fake_trainer.calls) == 2  # reopened, not trained again
    assert out.strip().splitlines()[-1] == record["sentence"] and "MNIST test" in out
