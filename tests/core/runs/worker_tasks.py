"""Functions the worker-pool tests run in real worker processes (importable by the spawned interpreter)."""

from __future__ import annotations

import os
import signal
import time


def count(steps: int, seconds_per_step: float, emit) -> int:
    """Emit 1..steps, a pause between them; return this worker's process id."""
    for step in range(1, steps + 1):
        time.sleep(seconds_per_step)
        emit(step)
    return os.getpid()


def killed(emit) -> None:
    """Die as the kernel's out-of-memory killer ends a process: SIGKILL, mid-job."""
    emit("started")
    time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(10)


def fail(emit) -> None:
    raise ValueError("a job's own error")


def imported(emit) -> dict:
    """What this worker imported besides its job: its main module's file and the Streamlit/UI modules loaded."""
    import sys

    return {"main": getattr(sys.modules.get("__mp_main__"), "__file__", None),
            "ui": sorted(name for name in sys.modules if name.split(".")[0] in ("streamlit", "ui", "app_pages"))}


def host_view(emit) -> dict:
    """What this worker process is told of its host: its memory limit, CPUs and TensorFlow's thread settings."""
    from core import host

    return {"memory_mb": host.memory_limit().megabytes, "cpus": host.usable_cpus().count,
            "intra": os.environ.get("TF_NUM_INTRAOP_THREADS"), "inter": os.environ.get("TF_NUM_INTEROP_THREADS")}
