"""What the host really gives this process: its memory limit and the CPUs it may use, each with where it came from.

A container's limits are in its cgroup, not in what `free` or `os.cpu_count()` show (those are the machine's):

- The process's cgroup is named in /proc/self/cgroup ("ID:CONTROLLERS:PATH"; cgroup v2 is the line "0::PATH"),
  under the hierarchy's mount point found in /proc/self/mountinfo (a container often mounts its own cgroup as
  the root: PATH is then relative to that mount's root).
- Memory: v2 `memory.max` ("max" = none), v1 `memory.limit_in_bytes` (a huge number = none). The smallest limit
  of the cgroup and its ancestors holds, and never more than the machine's memory (/proc/meminfo MemTotal).
- CPUs: the CFS quota — v2 `cpu.max` ("QUOTA PERIOD", "max PERIOD" = none), v1 `cpu.cfs_quota_us` /
  `cpu.cfs_period_us` (-1 = none) — else the affinity mask (os.sched_getaffinity), else os.cpu_count().
  Sources: the kernel's cgroup v1 and v2 documentation (Documentation/admin-guide/cgroup-v1/memory.rst,
  cgroup-v2.rst, scheduler/sched-bwc.rst).

Every function takes `root` (default "/"), so tests write fake cgroup files in a temporary folder. Missing files,
unreadable ones and garbage mean "no limit found there", never an exception. Pure Python: no Streamlit.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

MB = 1024**2
NO_LIMIT_BYTES = 2**62  # v1 says "no limit" with PAGE_COUNTER_MAX × page size (9223372036854771712 here)


@dataclass(frozen=True)
class MemoryLimit:
    """The memory this process's container may use: `megabytes` (MB, 1024² bytes) or None when nothing limits it
    below the machine; `source` says where it was read ("cgroup v1 memory.limit_in_bytes of /app", ...)."""
    megabytes: float | None
    source: str

    def describe(self) -> str:
        if self.megabytes is None:
            return f"no memory limit ({self.source})"
        return f"{self.megabytes:,.0f} MB ({self.source})"


@dataclass(frozen=True)
class Cpus:
    """The CPUs this process may use: `count` (a quota may give a fraction, e.g. 1.5) and where it came from."""
    count: float
    source: str

    @property
    def whole(self) -> int:
        """Whole CPUs, at least 1: the number of threads that can run at once without being throttled."""
        return max(1, math.floor(self.count + 1e-9))

    def describe(self) -> str:
        return f"{self.count:g} CPU{'s' if self.count != 1 else ''} ({self.source})"


def memory_limit(root: str | Path = "/") -> MemoryLimit:
    """The smallest memory limit over this process's cgroups (v1 and v2, the cgroup and its ancestors) and the
    machine's memory; `megabytes` None when no cgroup limits it (the machine's memory is then only its source)."""
    root = Path(root)
    found: list[tuple[int, str]] = []
    for version, folder, shown in cgroup_folders("memory", root):
        name = "memory.limit_in_bytes" if version == 1 else "memory.max"
        value = _read_bytes(folder / name, version)
        if value is not None:
            found.append((value, f"cgroup v{version} {name} of {shown}"))
    machine = _meminfo_total(root)
    if found:
        value, source = min(found)
        if machine is None or value < machine:
            return MemoryLimit(value / MB, source)
    if machine is not None:
        return MemoryLimit(None, f"no cgroup limit; the machine has {machine / MB:,.0f} MB")
    return MemoryLimit(None, "no cgroup limit found")


def usable_cpus(root: str | Path = "/") -> Cpus:
    """The CPUs this process may use: the smallest CFS quota over its cgroups (quota / period), where it is below
    the affinity mask's CPUs; else the affinity mask; else os.cpu_count() (1 when even that is unknown)."""
    root = Path(root)
    quotas: list[tuple[float, str]] = []
    for version, folder, shown in cgroup_folders("cpu", root):
        quota = _read_quota(folder, version)
        if quota is not None:
            quotas.append((quota, f"cgroup v{version} {'cpu.max' if version == 2 else 'cpu.cfs_quota_us'} of {shown}"))
    try:
        mask, mask_source = float(len(os.sched_getaffinity(0))), "the affinity mask"
    except (AttributeError, OSError):  # not on Linux
        mask, mask_source = float(os.cpu_count() or 1), "os.cpu_count()" if os.cpu_count() else "unknown: 1 assumed"
    if quotas:
        quota, source = min(quotas)
        if quota < mask:
            return Cpus(quota, source)
    return Cpus(mask, mask_source)


def cgroup_folders(controller: str, root: Path) -> list[tuple[int, Path, str]]:
    """(version, folder, cgroup path) of this process's cgroup for `controller` and each of its ancestors up to
    the hierarchy's mount point, innermost first; v1's hierarchy (if it has the controller) then v2's."""
    folders = []
    for version, path in _memberships(controller, root):
        mount = _mount(controller if version == 1 else None, root)
        if mount is None:
            continue
        mount_root, mount_point = mount
        relative = path
        if mount_root != "/" and (path == mount_root or path.startswith(mount_root.rstrip("/") + "/")):
            relative = path[len(mount_root.rstrip("/")):]
        base = root / mount_point.lstrip("/")
        folder = base / relative.strip("/")
        if not folder.is_dir():  # a cgroup namespace's own cgroup mounted as the root: its files are at the mount
            folder, relative = base, "/"
        shown = relative or "/"
        while True:
            folders.append((version, folder, shown))
            if folder == base or base not in folder.parents:
                break
            folder, shown = folder.parent, str(Path(shown).parent)
    return folders


def _memberships(controller: str, root: Path) -> list[tuple[int, str]]:
    """(version, cgroup path) pairs of /proc/self/cgroup for `controller` (v1) and the v2 line."""
    try:
        lines = (root / "proc/self/cgroup").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    v1, v2 = [], []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[2].startswith("/"):
            continue
        number, controllers, path = parts
        if number == "0" and controllers == "":
            v2.append((2, path))
        elif controller in controllers.split(","):
            v1.append((1, path))
    return v1 + v2


def _mount(controller: str | None, root: Path) -> tuple[str, str] | None:
    """(mount root, mount point) of the v1 hierarchy holding `controller`, or of cgroup v2 (controller None),
    from /proc/self/mountinfo; the usual places when it cannot be read."""
    try:
        lines = (root / "proc/self/mountinfo").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for line in lines:
        fields = line.split()
        if "-" not in fields:
            continue
        separator = fields.index("-")
        if separator < 5 or len(fields) < separator + 4:
            continue
        mount_root, mount_point = fields[3], fields[4]
        kind, options = fields[separator + 1], fields[separator + 3].split(",")
        if (controller is None and kind == "cgroup2") or (controller is not None and kind == "cgroup"
                                                          and controller in options):
            return mount_root, mount_point
    if lines:
        return None
    default = Path("sys/fs/cgroup") / (controller or "")
    return ("/", "/" + str(default)) if (root / default).is_dir() else None


def _read_bytes(path: Path, version: int) -> int | None:
    """A memory limit in bytes; None for "max", a v1 "no limit", a missing file or anything else."""
    try:
        text = path.read_text().strip()
        value = int(text)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if value <= 0 or value >= NO_LIMIT_BYTES:
        return None
    return value


def _read_quota(folder: Path, version: int) -> float | None:
    """CPUs a CFS quota gives (quota / period); None for none ("max", -1), a missing file or garbage."""
    try:
        if version == 2:
            quota_text, period_text = (folder / "cpu.max").read_text().split()
        else:
            quota_text = (folder / "cpu.cfs_quota_us").read_text().strip()
            period_text = (folder / "cpu.cfs_period_us").read_text().strip()
        if quota_text == "max":
            return None
        quota, period = int(quota_text), int(period_text)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if quota <= 0 or period <= 0:  # -1: no quota
        return None
    return quota / period


def _meminfo_total(root: Path) -> int | None:
    """The machine's memory in bytes (/proc/meminfo MemTotal, in kB); None when it cannot be read."""
    try:
        for line in (root / "proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, UnicodeDecodeError, ValueError, IndexError):
        return None
    return None
