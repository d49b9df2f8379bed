"""A real `streamlit run app.py` on a free localhost port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
STOP_GRACE_SECONDS = 3
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree_mb(pid: int) -> tuple[float, float]:
    """(the process's resident MB, it and all its descendants' resident MB), from /proc (Linux)."""
    def resident(one: int) -> float:
        try:
            with open(f"/proc/{one}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2
        except (OSError, ValueError, IndexError):
            return 0.0

    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree, stack = [], [pid]
    while stack:
        one = stack.pop()
        tree.append(one)
        stack.extend(children.get(one, []))
    return resident(pid), sum(resident(one) for one in tree)


def loads_tensorflow(pid: int) -> bool:
    """True when the process has TensorFlow's native library mapped (it was imported there)."""
    with open(f"/proc/{pid}/maps") as maps:
        return "tensorflow" in maps.read()


def wait_healthy(url: str, process: subprocess.Popen, log: Path | None = None, timeout: float = 60) -> None:
    """Until the server at `url` answers its health check; RuntimeError (with the end of its `log`, the file
    its stderr goes to) if it exits first, TimeoutError after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            said = log.read_text(errors="replace")[-4000:] if log is not None else "(its stderr was not kept)"
            raise RuntimeError(f"streamlit exited with {process.returncode}: {said}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit did not answer at {url} within {timeout} s")


def write_digits(folder: Path, digits) -> Path:
    """The test digits as a local Keras-style mnist.npz (no download)."""
    path = folder / "mnist.npz"
    np.savez(path, x_train=digits.x_train, y_train=digits.y_train, x_test=digits.x_test, y_test=digits.y_test)
    return path


def start_streamlit(folder: Path, port: int, env: dict, log: Path, wrap=None) -> subprocess.Popen:
    """`streamlit run app.py` from `folder` (a checkout) on 127.0.0.1:`port`, in a process group of its own (it and
    its workers, to stop together). Its output and its workers' go to the file `log`, where Streamlit prints an app's
    uncaught exception; not to a pipe, which nobody would read while the server runs (a full one blocks the
    server). `wrap`: a function of the command giving the command to run (e.g. in a cgroup: benchmarks/container.py)."""
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless",
               "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    with log.open("w") as output:
        return subprocess.Popen(
            wrap(command) if wrap else command,
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


SERVER_PIDS: dict[str, int] = {}  # url -> the web server's process id, while it serves
SERVER_LOGS: dict[str, Path] = {}  # url -> the file its output (and its workers') goes to


@contextmanager
def serve(folder: Path, mnist_path: Path, **settings: str):
    """`streamlit run app.py` on a free port with its run store in `folder` (and environment `settings`);
    stopped on leaving."""
    port = free_port()
    log = folder / f"streamlit-{port}.log"
    env = {**os.environ, "RUN_STORE_DIR": str(folder / "store"), "MNIST_PATH": str(mnist_path),
           "KERAS_HOME": str(folder / "keras"), **settings}
    process = start_streamlit(ROOT, port, env, log)
    url = f"http://127.0.0.1:{port}"
    SERVER_PIDS[url], SERVER_LOGS[url] = process.pid, log
    try:
        wait_healthy(url, process, log)
        yield url
    finally:
        SERVER_PIDS.pop(url, None)
        SERVER_LOGS.pop(url, None)
        stop(process)


def stop(process: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM, then after `grace` seconds SIGKILL for the server and whatever of its group is left (a worker
    still importing TensorFlow held a stopping server up to ~10 s; nothing a test checks happens then)."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the group is empty: all ended
        pass
    process.wait(timeout=20)


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, digits):
    """The app served from a run store of its own, on MNIST digits from a local file (no download): one server
    for the session (its worker's TensorFlow import and warm-up are paid once). The tests sharing it ask for
    settings no other test asks for, so each sees its own runs trained now; a test that needs a server nobody
    has used yet starts its own with `serve`."""
    folder = tmp_path_factory.mktemp("e2e")
    with serve(folder, write_digits(folder, digits), TRAIN_WORKERS="1") as url:  # the default, said (classroom)
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test shows the end of each running server's log (its and its workers' stderr): what the
    app said is the first thing to read when a page never showed what the test waited for."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for url, log in SERVER_LOGS.items():
            report.sections.append((f"server log {url} (last 6,000 characters)",
                                    log.read_text(errors="replace")[-6000:]))
