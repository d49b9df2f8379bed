"""What a worker process does first (core/runs/workers.py calls `prepare` in its initializer): leave when its
server dies, and size TensorFlow's thread pools to the CPUs the host gives before TensorFlow is imported.

Dying with the server. A worker whose server was SIGKILLed used to be re-parented to PID 1 and stay (~850 MB),
and a restarted server then started a second one the budget did not know of. Here a thread waits on the parent's
sentinel — `multiprocessing.parent_process().join()`: the read end of the pipe the server spawned the worker
through, which reaches end-of-file when the server process is gone, however it died — and then ends the worker at
once. Where there is no such sentinel (a worker not started by multiprocessing's spawn) it polls os.getppid()
instead, every PARENT_POLL_SECONDS. The resource tracker process ends by itself once the server and its workers are
gone (its pipe's last writer closes).

Not Linux's PR_SET_PDEATHSIG: its "parent" is the *thread* that started the process (prctl(2)), and the pool's
processes are started by whichever thread submitted first — a Streamlit script run's thread, which ends when the
page has drawn. Measured here: a worker with PDEATHSIG set was killed as soon as the thread that started it ended.

Threads. TensorFlow sizes its pools by the cores it sees; in a container held to 1-2 CPUs by a CFS quota on a
many-core host that is dozens of threads fighting over the quota. TF_NUM_INTRAOP_THREADS and
TF_NUM_INTEROP_THREADS (read by TensorFlow when it creates its first context: tensorflow/core/common_runtime/
process_util.cc) and OMP_NUM_THREADS are set before the import, from core/server_settings.py; values already in
the environment win.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time

from core import server_settings

log = logging.getLogger(__name__)

PARENT_POLL_SECONDS = 1.0
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def prepare() -> None:
    """In a new worker process, before anything imports TensorFlow."""
    watch_parent()
    size_thread_pools()


def watch_parent(poll_seconds: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """Start a daemon thread that ends this process (exit status 1) once its parent process has died."""
    parent = multiprocessing.parent_process()
    first_parent = os.getppid()

    def watch() -> None:
        if parent is not None:
            parent.join()  # returns when the parent's sentinel reaches end-of-file: the parent is gone
        else:
            while os.getppid() == first_parent:
                time.sleep(poll_seconds)
        os._exit(1)  # nobody is left to take this worker's results; finish nothing

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def size_thread_pools() -> dict[str, str]:
    """Set TensorFlow's (and OpenMP's) thread counts for this worker from the server's settings; returns what was
    set (variables already in the environment are kept)."""
    intra, inter = server_settings.check(log_problems=False).threads  # the server logged them
    wanted = {"TF_NUM_INTRAOP_THREADS": intra, "TF_NUM_INTEROP_THREADS": inter, "OMP_NUM_THREADS": intra}
    chosen = {}
    for name, value in wanted.items():
        chosen[name] = os.environ.setdefault(name, str(value))
    return chosen
