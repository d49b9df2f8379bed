"""Reading a network spec from a file or a saved network, bounded and total: at most MAX_SPEC_BYTES are read
(a spec is a few hundred bytes; `/dev/zero` or a huge file is refused after that many), the bytes must be
UTF-8 JSON, and whatever is wrong — a missing file, a folder, a device, bad JSON, JSON nested too deeply, a
value of the wrong type — is one ValueError whose message a user can act on. Nothing else escapes.
"""

from __future__ import annotations

from pathlib import Path

from core.architectures import ArchitectureSpec
from core.safe_text import plain

MAX_SPEC_BYTES = 64 * 1024


def read_bounded(path: Path | str, limit: int = MAX_SPEC_BYTES) -> bytes:
    """At most `limit` bytes of the file; ValueError when it is longer or cannot be read."""
    try:
        with open(Path(path).expanduser(), "rb") as file:
            data = file.read(limit + 1)
    except OSError as error:
        raise ValueError(error.strerror or type(error).__name__) from None
    if len(data) > limit:
        raise ValueError(f"it is larger than {limit // 1024} kB (a network spec is a few hundred bytes)")
    return data


def parse_spec(data: bytes) -> ArchitectureSpec:
    """The spec in `data` (UTF-8 JSON); ValueError saying why it is not one."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text") from None
    try:
        return ArchitectureSpec.from_json(text)
    except ValueError:
        raise
    except (TypeError, RecursionError, MemoryError, AttributeError) as error:  # a gap in validation: still one line
        raise ValueError(f"it is not a usable network spec ({type(error).__name__})") from None


def read_spec(path: Path | str, limit: int = MAX_SPEC_BYTES) -> ArchitectureSpec:
    """The network spec in the file at `path`, bounded and checked; ValueError (one line, the path shortened)."""
    try:
        data = read_bounded(path, limit)
    except ValueError as error:
        raise ValueError(f"cannot read the network file {plain(path, 120)}: {error}") from None
    try:
        return parse_spec(data)
    except ValueError as error:
        raise ValueError(f"the network file {plain(path, 120)} is not a usable network: {plain(error, 300)}") from None
