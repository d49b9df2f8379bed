"""Workers live and die with their server, and are told what the host gives (core/runs/worker_setup.py), with real
processes: a server SIGKILLed mid-job, a worker whose starting thread ended, a server in a small real cgroup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from core.costs import Cost
from core.runs import Job
from core.runs.workers import WorkerPool
from tests.core.runs import worker_tasks

ROOT = Path(__file__).resolve().parents[3]
BIG = 10**6

SERVER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from multiprocessing import resource_tracker

    from core.costs import Cost
    from core.runs import Job
    from core.runs.workers import WorkerPool
    from tests.core.runs import worker_tasks


    def ask(pool, *call):
        return pool.submit(Job(print, cost=Cost(100, None)), lambda run: run(*call))


    if __name__ == "__main__":
        pool = WorkerPool(workers=1, budget_mb={big}, recycle_mb={big}, warm=False)
        print(ask(pool, worker_tasks.count, 1, 0.0).result(), flush=True)
        print(resource_tracker._resource_tracker._pid, flush=True)
        print(ask(pool, worker_tasks.host_view).result(), flush=True)
        ask(pool, worker_tasks.count, 600, 1.0)  # busy when the server is killed
        time.sleep(600)
""")


def start_server(tmp_path: Path, wrap=None) -> tuple[subprocess.Popen, int, int, dict]:
    """A process owning a real WorkerPool, as the web server does: (it, its worker's pid, the resource tracker's
    pid, what the worker was told of its host)."""
    script = tmp_path / "server.py"
    script.write_text(SERVER.format(root=str(ROOT), big=BIG))
    command = [sys.executable, str(script)]
    server = subprocess.Popen(wrap(command) if wrap else command, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    worker, tracker, told = (server.stdout.readline().strip() for _ in range(3))
    return server, int(worker), int(tracker), eval(told)  # noqa: S307 (a dict this test's own worker printed)


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie waiting for PID 1 to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def test_a_worker_and_the_resource_tracker_end_when_their_server_is_killed(tmp_path):
    """Issue 36 Broke 3: SIGKILL the server mid-training and its worker (~850 MB) and the resource tracker were
    re-parented to PID 1 and stayed for ever."""
    server, worker, tracker, _ = start_server(tmp_path)
    try:
        assert alive(worker) and alive(tracker)
        time.sleep(1)  # the worker is busy with a job
        server.send_signal(signal.SIGKILL)
        server.wait()
        assert gone_within([worker, tracker], 5) == []
    finally:
        for pid in (worker, tracker):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_outlives_the_thread_that_started_it():
    """Streamlit starts the workers from a page's script thread, which ends when the page has drawn: a worker must
    not die with it (Linux's parent-death signal would kill it then: it watches the starting thread)."""
    pool = WorkerPool(workers=1, budget_mb=BIG, recycle_mb=BIG, warm=False)
    try:
        starter = threading.Thread(target=pool.start)
        starter.start()
        starter.join()
        time.sleep(1.5)
        job = Job(print, cost=Cost(100, None))
        assert pool.submit(job, lambda call: call(worker_tasks.count, 1, 0.0)).result() == pool._slots[0].pid
    finally:
        pool.shutdown()


def test_a_worker_is_told_the_limits_of_the_small_cgroup_its_server_runs_in(tmp_path):
    """Issue 35: nothing read the container's limit or CPU quota. The server runs in a real 700 MB, 1-CPU cgroup."""
    container = pytest.importorskip("benchmarks.container")
    if os.geteuid() != 0 or container.cgroup_version() is None:
        pytest.skip("needs root and a writable cgroup memory controller (v1 or v2)")
    with container.Container(memory_mb=700, cpus=1, copy_libraries=False) as box:
        server, worker, tracker, told = start_server(tmp_path, wrap=box.wrap)
        server.kill()
        server.wait()
        gone_within([worker, tracker], 5)
    assert told == {"memory_mb": 700, "cpus": 1.0, "intra": "1", "inter": "1"}


CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from core.runs import worker_setup

    worker_setup.watch_parent(poll_seconds=0.1)  # not started by multiprocessing: no sentinel, it polls getppid
    print("watching", flush=True)
    time.sleep(600)
""")
PARENT = textwrap.dedent("""
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, {child!r}], stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    print(child.pid, flush=True)
    time.sleep(600)
""")


def test_a_process_without_multiprocessings_sentinel_still_ends_with_its_parent(tmp_path):
    (tmp_path / "child.py").write_text(CHILD.format(root=str(ROOT)))
    (tmp_path / "parent.py").write_text(PARENT.format(child=str(tmp_path / "child.py")))
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        assert alive(child)
        parent.kill()
        parent.wait()
        assert gone_within([child], 3) == []
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
