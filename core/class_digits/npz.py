"""A class set as a file: `.npz` with `x` (N, 28, 28) uint8, white ink on black, and `y` (N,) labels 0-9 — the
layout `keras.datasets.mnist.load_data()` gives, so a set exported here loads wherever MNIST does.

Reading is bounded and total: each array's header is read and checked (shape, dtype, count) before any of its
data, at most that many bytes are decompressed, nothing is unpickled; whatever is wrong is one ValueError whose
message names the file and the problem.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from pathlib import Path

import numpy as np

from core.atomic import write_atomically
from core.class_digits.limits import DIGIT_SHAPE, MAX_SET_SIZE, NUM_LABELS

MAX_FILE_BYTES = 64 * 1024**2  # an .npz of MAX_SET_SIZE digits is under 4 MB uncompressed
LAYOUT = "x (N, 28, 28) uint8 white ink on black and y (N,) labels 0-9, as keras.datasets.mnist has them"


def _header(archive: zipfile.ZipFile, member: str, shown: str) -> tuple[tuple, np.dtype, bytes]:
    """(shape, dtype, raw data) of one .npy member, its header checked before its data is read."""
    with archive.open(member) as handle:
        try:
            version = np.lib.format.read_magic(handle)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(handle, max_header_size=1024)
        except ValueError as error:
            raise ValueError(f"{shown}: {member} is not a numpy array ({error}).") from None
        name = member[:-len(".npy")]
        if any(side < 0 for side in shape):  # numpy's header parser accepts them; read(negative) reads it all
            raise ValueError(f"{shown}: {name} declares a negative size {shape}; it must be {LAYOUT}.")
        if dtype.hasobject:
            raise ValueError(f"{shown}: {name} holds Python objects; it must hold numbers ({LAYOUT}).")
        if len(shape) == 0 or shape[0] > MAX_SET_SIZE:
            count = "no list" if len(shape) == 0 else f"{shape[0]:,} digits"
            raise ValueError(f"{shown}: {name} holds {count}; a class set holds 1 to {MAX_SET_SIZE:,} digits.")
        _check(name, shape, dtype, shown)
        size = int(np.prod(shape)) * dtype.itemsize
        raw = handle.read(size + 1)
    if len(raw) != size:
        raise ValueError(f"{shown}: {name} holds {len(raw):,} bytes, not the {size:,} its header declares.")
    return shape, dtype, raw if not fortran else np.frombuffer(raw, dtype).reshape(shape, order="F").tobytes()


def _check(name: str, shape: tuple, dtype: np.dtype, shown: str) -> None:
    if name == "x" and (shape[1:] != DIGIT_SHAPE or dtype != np.uint8):
        raise ValueError(f"{shown}: x is {dtype} {shape}; it must be (N, 28, 28) uint8 ({LAYOUT}).")
    if name == "y" and (len(shape) != 1 or dtype.kind not in "iu"):
        raise ValueError(f"{shown}: y is {dtype} {shape}; it must be (N,) whole numbers ({LAYOUT}).")


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(x (N, 28, 28) uint8, y (N,) uint8) from a checked .npz; ValueError, one line naming the file, for a file
    that is missing, too large, not an .npz, or holds arrays of another shape, type, count or label range."""
    path = Path(path).expanduser()
    shown = str(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ValueError(f"{shown}: cannot be read ({error.strerror or error}).") from None
    if path.is_dir():
        raise ValueError(f"{shown}: is a folder, not an .npz file.")
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{shown}: {size / 1024**2:,.0f} MB is too large (at most {MAX_FILE_BYTES // 1024**2} MB).")
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            missing = [name for name in ("x", "y") if f"{name}.npy" not in members]
            if missing:
                raise ValueError(f"{shown}: has no array {' or '.join(missing)} ({LAYOUT}).")
            x_shape, _, x_raw = _header(archive, "x.npy", shown)
            y_shape, y_dtype, y_raw = _header(archive, "y.npy", shown)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, lzma.LZMAError, NotImplementedError,
            RuntimeError) as error:  # damaged data, an unsupported compression, an encrypted member
        raise ValueError(f"{shown}: is not an .npz archive numpy can read ({error}).") from None
    if x_shape[0] != y_shape[0]:
        raise ValueError(f"{shown}: x holds {x_shape[0]:,} digits but y {y_shape[0]:,} labels.")
    if x_shape[0] == 0:
        raise ValueError(f"{shown}: holds no digits.")
    y = np.frombuffer(y_raw, dtype=y_dtype).reshape(y_shape)
    outside = sorted({int(label) for label in y if not 0 <= int(label) < NUM_LABELS})
    if outside:
        raise ValueError(f"{shown}: y holds labels outside 0-9 ({', '.join(map(str, outside[:5]))}).")
    x = np.frombuffer(x_raw, dtype=np.uint8).reshape(x_shape).copy()
    return x, y.astype(np.uint8)


def write_npz(path: str | Path, x: np.ndarray, y: np.ndarray) -> None:
    """Write x (N, 28, 28) uint8 and y (N,) uint8 as a compressed .npz in one step (a reader never sees half a
    file). ValueError, naming the file, when it cannot be written."""
    path = Path(path).expanduser()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=np.asarray(x, dtype=np.uint8), y=np.asarray(y, dtype=np.uint8))
    try:
        if path.is_dir():
            raise IsADirectoryError(21, "it is a folder")
        write_atomically(path, buffer.getvalue())
    except OSError as error:
        raise ValueError(f"Cannot write {path} ({error.strerror or error}).") from None
