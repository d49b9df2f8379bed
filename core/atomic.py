"""Writing a file so that a reader sees the old content or the new, never a part (and a writer killed
half-way leaves at most a hidden temporary file beside it)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a hidden temporary file beside `path`, then rename it over `path` (POSIX rename is
    atomic within a file system). OSError when the medium fails; the temporary file is removed then."""
    path = Path(path)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        staging.write_bytes(data)
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
