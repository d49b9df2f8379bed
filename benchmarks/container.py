"""A container's limits for a benchmark's server: a cgroup of M MB and C CPUs, and a fresh copy of the libraries.

    with Container(memory_mb=690, cpus=1) as box:
        process = subprocess.Popen(box.wrap(command), env=box.environment(env))
        ...
        box.stats()  # {"oom kills": 0, "peak MB": 687.0, "failcnt": 123456}

Needs root and a cgroup memory (and cpu) controller: version 1 (/sys/fs/cgroup/memory/NAME,
/sys/fs/cgroup/cpu/NAME: the machines here) or version 2 (/sys/fs/cgroup/NAME with memory.max, cpu.max).

Why a copy of the libraries: a page of a file in the page cache is charged to the cgroup that read it first. On
a machine where TensorFlow's 1.3 GB of files were read before (by other processes), a server started in a new
cgroup gets those pages for free and the cgroup looks bigger than a new container, which reads every page itself.
So site-packages is copied to a new folder (new files, new pages), the copy's pages are dropped from the cache
(os.posix_fadvise POSIX_FADV_DONTNEED), and the server imports from the copy (PYTHONPATH before site-packages).
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import tempfile
import time
import uuid
from pathlib import Path

V1 = Path("/sys/fs/cgroup")
SKIPPED = ("playwright", "ray", "moto", "cfnlint", "clang", "pip", "setuptools")  # not imported by the server


def cgroup_version() -> int | None:
    """1 or 2 (the memory controller's hierarchy here), None when there is none we can write."""
    if (V1 / "memory" / "memory.limit_in_bytes").exists():
        return 1
    try:
        return 2 if "memory" in (V1 / "cgroup.controllers").read_text().split() else None
    except OSError:
        return None


class Container:
    """A memory (and optionally CPU) cgroup for a command and its children, removed on exit."""

    def __init__(self, memory_mb: float | None = None, cpus: float | None = None, copy_libraries: bool = True):
        self.memory_mb, self.cpus, self.copy_libraries = memory_mb, cpus, copy_libraries
        self.version = cgroup_version()
        if self.version is None:
            raise RuntimeError("no writable cgroup memory controller here (needs root and cgroup v1 or v2)")
        self.name = f"bench-{uuid.uuid4().hex[:8]}"
        self.folders: list[Path] = []
        self.libraries: Path | None = None

    # --- set up and tear down -----------------------------------------------------------------------

    def __enter__(self) -> Container:
        if self.version == 1:
            memory = V1 / "memory" / self.name
            memory.mkdir()
            self.folders.append(memory)
            if self.memory_mb is not None:
                (memory / "memory.limit_in_bytes").write_text(str(int(self.memory_mb * 1024**2)))
            if self.cpus is not None:
                cpu = V1 / "cpu" / self.name
                cpu.mkdir()
                self.folders.append(cpu)
                (cpu / "cpu.cfs_period_us").write_text("100000")
                (cpu / "cpu.cfs_quota_us").write_text(str(int(self.cpus * 100000)))
        else:
            folder = V1 / self.name
            (V1 / "cgroup.subtree_control").write_text("+memory +cpu")
            folder.mkdir()
            self.folders.append(folder)
            if self.memory_mb is not None:
                (folder / "memory.max").write_text(str(int(self.memory_mb * 1024**2)))
                if (folder / "memory.swap.max").exists():
                    (folder / "memory.swap.max").write_text("0")
            if self.cpus is not None:
                (folder / "cpu.max").write_text(f"{int(self.cpus * 100000)} 100000")
        if self.copy_libraries:
            self.libraries = fresh_libraries()
        return self

    def __exit__(self, *exc) -> None:
        self.kill_all()
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except OSError:  # its last processes are still exiting
                    time.sleep(0.1)
        if self.libraries is not None:
            shutil.rmtree(self.libraries.parent, ignore_errors=True)

    def kill_all(self) -> None:
        """SIGKILL whatever is left in the cgroup (only what this benchmark started is in it)."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # --- using it -------------------------------------------------------------------------------------

    def wrap(self, command: list[str]) -> list[str]:
        """`command` started inside the cgroup (a shell moves itself in, then execs it: children inherit)."""
        moves = " && ".join(f"echo $$ > {folder / 'cgroup.procs'}" for folder in self.folders)
        return ["sh", "-c", f'{moves} && exec "$@"', "sh", *command]

    def environment(self, env: dict) -> dict:
        """`env` with the fresh copy of the libraries first on the import path."""
        if self.libraries is None:
            return dict(env)
        paths = [str(self.libraries), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        return {**env, "PYTHONPATH": os.pathsep.join(paths)}

    def pids(self) -> list[int]:
        try:
            return [int(line) for line in (self.folders[0] / "cgroup.procs").read_text().split()]
        except (OSError, ValueError, IndexError):
            return []

    def stats(self) -> dict:
        """OOM kills, the cgroup's peak charge (MB) and how often it hit its limit."""
        folder = self.folders[0]
        if self.version == 1:
            oom = _field(folder / "memory.oom_control", "oom_kill")
            peak = _number(folder / "memory.max_usage_in_bytes")
            failcnt = _number(folder / "memory.failcnt")
        else:
            oom = _field(folder / "memory.events", "oom_kill")
            peak = _number(folder / "memory.peak")
            failcnt = _field(folder / "memory.events", "max")
        return {"oom kills": oom, "cgroup peak MB": None if peak is None else peak / 1024**2, "failcnt": failcnt}


def _number(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _field(path: Path, name: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == name:
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def fresh_libraries() -> Path:
    """A copy of site-packages (less what the server never imports) in a new temporary folder, its pages dropped
    from the page cache: a process importing from it reads (and is charged for) every page, as in a new
    container. Returns the copy's path (the folder above it is removed by the caller)."""
    source = Path(next(path for path in site.getsitepackages() if Path(path, "tensorflow").is_dir()))
    target = Path(tempfile.mkdtemp(prefix="bench-libraries-")) / "site-packages"
    shutil.copytree(source, target, symlinks=True,
                    ignore=lambda folder, names: [name for name in names if Path(folder) == source
                                                  and name.split("-")[0].split(".")[0] in SKIPPED])
    os.sync()
    for folder, _, files in os.walk(target):
        for name in files:
            path = os.path.join(folder, name)
            try:
                descriptor = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)
    return target
