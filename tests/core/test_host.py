"""What the host gives, read from fake cgroup files in a temporary folder (core/host.py): v1 and v2 memory limits,
"max", a missing file, garbage, ancestors, a container's own cgroup mounted as the root, CPU quotas."""

from __future__ import annotations

import os

import pytest

from core import host

MB = 1024**2
V1_MOUNTS = ("35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
             "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n")
V2_MOUNTS = "41 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n"


def fake_host(tmp_path, cgroup: str, mountinfo: str, files: dict, memtotal_mb: int = 16384):
    proc = tmp_path / "proc/self"
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text(cgroup)
    (proc / "mountinfo").write_text(mountinfo)
    (tmp_path / "proc/meminfo").write_text(f"MemTotal:       {memtotal_mb * 1024} kB\nMemFree: 1 kB\n")
    for path, text in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


def v1(tmp_path, limit: str, **more):
    return fake_host(tmp_path, "4:memory:/app\n3:cpu,cpuacct:/app\n", V1_MOUNTS,
                     {"sys/fs/cgroup/memory/app/memory.limit_in_bytes": limit, **more})


def v2(tmp_path, files: dict):
    return fake_host(tmp_path, "0::/app\n", V2_MOUNTS,
                     {f"sys/fs/cgroup/app/{name}": text for name, text in files.items()})


def test_a_v1_limit_is_read_in_megabytes_with_its_source(tmp_path):
    limit = host.memory_limit(v1(tmp_path, str(690 * MB)))
    assert limit.megabytes == 690
    assert "cgroup v1 memory.limit_in_bytes of /app" in limit.source


def test_v1s_huge_number_means_no_limit(tmp_path):
    limit = host.memory_limit(v1(tmp_path, "9223372036854771712"))
    assert limit.megabytes is None
    assert "16,384 MB" in limit.source  # the machine's memory, said as the source


@pytest.mark.parametrize("text, megabytes", [(str(1200 * MB), 1200), ("max\n", None)])
def test_a_v2_memory_max_is_read_and_max_means_no_limit(tmp_path, text, megabytes):
    limit = host.memory_limit(v2(tmp_path, {"memory.max": text}))
    assert limit.megabytes == megabytes
    if megabytes:
        assert "cgroup v2 memory.max of /app" in limit.source


@pytest.mark.parametrize("text", ["", "lots", "12.5e", "-5", "\x00\xff"])
def test_garbage_in_the_limit_file_means_no_limit_not_an_exception(tmp_path, text):
    assert host.memory_limit(v2(tmp_path, {"memory.max": text})).megabytes is None


def test_missing_files_mean_no_limit(tmp_path):
    assert host.memory_limit(tmp_path).megabytes is None  # no /proc at all
    assert host.memory_limit(v2(tmp_path, {})).megabytes is None  # a cgroup without memory.max
    assert host.usable_cpus(tmp_path).count >= 1


def test_the_smallest_limit_of_the_cgroup_and_its_ancestors_holds(tmp_path):
    root = fake_host(tmp_path, "0::/outer/inner\n", V2_MOUNTS, {
        "sys/fs/cgroup/outer/memory.max": str(800 * MB), "sys/fs/cgroup/outer/inner/memory.max": "max"})
    limit = host.memory_limit(root)
    assert limit.megabytes == 800 and "/outer" in limit.source


def test_a_limit_above_the_machines_memory_is_no_limit(tmp_path):
    assert host.memory_limit(v1(tmp_path, str(64 * 1024 * MB))).megabytes is None


def test_a_containers_own_cgroup_mounted_as_the_root_is_found(tmp_path):
    """Docker without a cgroup namespace: /proc/self/cgroup names /docker/ID, mounted at /sys/fs/cgroup/memory."""
    root = fake_host(tmp_path, "4:memory:/docker/abc\n",
                     "35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n",
                     {"sys/fs/cgroup/memory/memory.limit_in_bytes": str(2700 * MB)})
    assert host.memory_limit(root).megabytes == 2700


@pytest.mark.parametrize("files, count", [({"cpu.max": "50000 100000"}, 0.5), ({"cpu.max": "150000 100000"}, 1.5),
                                           ({"cpu.max": "max 100000"}, None), ({"cpu.max": "garbage"}, None)])
def test_cpus_from_a_v2_quota(tmp_path, files, count):
    cpus = host.usable_cpus(v2(tmp_path, files))
    if count is None:
        assert cpus.count == len(os.sched_getaffinity(0)) and cpus.source == "the affinity mask"
    else:
        assert cpus.count == count and "cpu.max" in cpus.source


def test_cpus_from_a_v1_quota_and_minus_one_is_none(tmp_path):
    quota = v1(tmp_path, "max", **{"sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_quota_us": "100000",
                                   "sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_period_us": "100000"})
    assert host.usable_cpus(quota).count == 1 and "cpu.cfs_quota_us" in host.usable_cpus(quota).source
    (tmp_path / "sys/fs/cgroup/cpu,cpuacct/app/cpu.cfs_quota_us").write_text("-1")
    assert host.usable_cpus(quota).source == "the affinity mask"


def test_a_fraction_of_a_cpu_is_one_whole_thread(tmp_path):
    assert host.Cpus(0.5, "q").whole == 1 and host.Cpus(1.5, "q").whole == 1 and host.Cpus(4.0, "q").whole == 4


def test_a_quota_above_the_affinity_mask_leaves_the_mask(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    cpus = host.usable_cpus(v2(tmp_path, {"cpu.max": "800000 100000"}))
    assert cpus.count == 2 and cpus.source == "the affinity mask"
