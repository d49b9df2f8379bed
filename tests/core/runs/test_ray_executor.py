"""Issue 13 with a real Ray (no mocks of it): a local Ray, a two-node cluster on this machine, a worker killed
mid-cell, a cell failing for its own reason, and a second run that submits nothing."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

ray = pytest.importorskip("ray")

from core.config import TrainConfig  # noqa: E402
from core.runs.ray_executor import RayExecutor, check_reachable, task_options, tensorflow_threads  # noqa: E402
from core.runs import Job, RunStore, RunsService  # noqa: E402
from core.runs.jobs import train_run  # noqa: E402
from core.study import StudySpec, analyse, run_study  # noqa: E402
from tests.fakes import FakeTrainer, service  # noqa: E402

pytestmark = pytest.mark.slow
SPEC = StudySpec(sample_sizes=(60, 120), num_seeds=2, num_epochs=1)  # 2 networks x 2 sizes x 2 seeds


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with 2 CPUs for the module; whatever a test leaves running is stopped with it."""
    executor = RayExecutor(local_cpus=2)
    status = executor.connect()
    yield executor, status
    executor.shutdown()


def test_task_options_declare_resources_and_retry_only_system_failures():
    assert task_options(2, 1, 3) == {"num_cpus": 2, "num_gpus": 1, "max_retries": 3, "retry_exceptions": False}
    assert tensorflow_threads(1) == (1, 1) and tensorflow_threads(4) == (4, 1)
    for bad in ({"cpus_per_cell": 0}, {"gpus_per_cell": -1}, {"max_retries": -1}):
        with pytest.raises(ValueError):
            task_options(**bad)


def test_a_real_ray_head_passes_the_address_probe(local_ray):
    executor, status = local_ray
    check_reachable(status.address, timeout=5)  # the probe's Ray call answered by a real GCS


def test_a_local_ray_study_lands_every_cell_with_the_in_process_run_ids(local_ray, digits, tmp_path):
    executor, status = local_ray
    assert status.nodes == 1 and status.cpus == 2
    on_ray, in_process = RunStore(tmp_path / "ray"), RunStore(tmp_path / "here")
    reports = []
    run_study(SPEC, digits, RunsService(on_ray, executor), on_cell=reports.append)
    run_study(SPEC, digits, service(in_process, FakeTrainer()))  # stored under the ids an in-process run gets
    ids = {row["run_id"] for row in on_ray.list_runs()}
    assert len(ids) == 8 and ids == {row["run_id"] for row in in_process.list_runs()}
    assert sorted(report.index for report in reports) == list(range(1, 9))
    assert all(report.node and "Ray node" in report.node and report.seconds > 0 for report in reports)
    assert all(on_ray.get(run_id).trained_on.endswith(status_node_suffix(reports)) for run_id in ids)
    report = analyse(SPEC, digits, service(on_ray))  # the study's analysis reads them as usual
    assert report.missing == 0 and len(report.cells) == 8 and not report.gaps.empty
    assert list((on_ray.root / "tmp").iterdir()) == []  # nothing half-written

    again = []
    again_cells = list(RunsService(on_ray, executor).train_missing(SPEC.configs(digits.pool_size), digits))
    assert len(again_cells) == 8 and all(cell.outcome.cached for cell in again_cells)  # a second run submits no task
    run_study(SPEC, digits, RunsService(on_ray, executor), on_cell=again.append)
    assert len(again) == 8 and all(report.cached for report in again)


def status_node_suffix(reports) -> str:
    return reports[0].node.rsplit(" ", 1)[-1]


def test_a_cell_failing_for_its_own_reason_is_reported_and_the_others_land(local_ray, digits, tmp_path):
    executor, _ = local_ray
    store = RunStore(tmp_path / "store")
    good = TrainConfig(architecture="flat", sample_size=60, num_epochs=1)
    bad = TrainConfig(architecture="flat", sample_size=60, num_epochs=1, dataset="fashion_mnist")  # not the data sent
    done = list(RunsService(store, executor).train_missing([good, bad], digits))
    by_config = {cell.config: cell for cell in done}
    assert by_config[good].error is None and by_config[good].outcome.run.run_id == store.id_for(good, digits)
    assert by_config[bad].outcome is None and "ValueError" in by_config[bad].error
    assert "fashion_mnist" in by_config[bad].error


def test_a_gpu_the_cluster_does_not_have_is_refused_before_anything_is_submitted(local_ray, digits, tmp_path):
    """No GPU on these machines: only the plumbing is tested (the request reaches Ray's resources check)."""
    executor = RayExecutor(gpus_per_cell=1)
    with pytest.raises(ValueError, match="asks for 1 GPUs but the cluster has 0"):
        executor.submit(Job(train_run, (TrainConfig(sample_size=60, num_epochs=1), None), digits))
    with pytest.raises(ValueError, match="largest node of the cluster has 2"):
        RayExecutor(cpus_per_cell=3).connect()


def test_a_worker_killed_mid_cell_is_retried_and_the_study_completes(local_ray, digits, tmp_path):
    executor, _ = local_ray
    store = RunStore(tmp_path / "store")
    slow = TrainConfig(architecture="conv", sample_size=1000, num_epochs=5)  # ~6 s on one CPU: killed at 2 s
    fast = TrainConfig(architecture="flat", sample_size=60, num_epochs=1)
    done: list = []
    driver = threading.Thread(
        target=lambda: done.extend(RunsService(store, executor).train_missing([slow, fast], digits)))
    driver.start()
    killed, seen = None, {}
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and driver.is_alive():
        for pid in training_workers():
            seen.setdefault(pid, time.time())
            if time.time() - seen[pid] > 2:  # two seconds into a cell: mid-training
                killed = pid
                os.kill(pid, signal.SIGKILL)
                break
        time.sleep(0.2)
    driver.join(timeout=300)
    assert killed is not None and not driver.is_alive()
    # Without Ray's retry the killed cell would come back as a WorkerCrashedError; it came back trained.
    assert {cell.config for cell in done} == {slow, fast} and all(cell.error is None for cell in done)
    assert {row["run_id"] for row in store.list_runs()} == {store.id_for(slow, digits), store.id_for(fast, digits)}
    assert list((store.root / "tmp").iterdir()) == []


def test_ctrl_c_cancels_the_cells_still_outstanding(local_ray, digits, tmp_path):
    executor, _ = local_ray
    store = RunStore(tmp_path / "store")
    configs = [TrainConfig(architecture="flat", sample_size=60, num_epochs=1)] + [
        TrainConfig(architecture="conv", sample_size=1000, num_epochs=20, seed=seed) for seed in range(4)]  # ~25 s each

    with pytest.raises(KeyboardInterrupt):
        for _ in RunsService(store, executor).train_missing(configs, digits):
            raise KeyboardInterrupt  # what Ctrl-C raises in the driver when the first cell is back
    deadline = time.time() + 15  # without the cancel, the conv cells would train for a minute more
    while training_workers() and time.time() < deadline:
        time.sleep(0.5)
    assert training_workers() == []  # nothing keeps training on the cluster
    assert len(store.list_runs()) == 1  # the cell that finished is stored; it is the only one
    assert list((store.root / "tmp").iterdir()) == []


def training_workers() -> list[int]:
    """PIDs of Ray workers running a cell now: Ray titles a busy worker process `ray::run_task`."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as file:
                    if file.read().startswith(b"ray::run_task"):
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_a_two_node_cluster_runs_cells_on_both_nodes(digits, tmp_path):
    from ray.cluster_utils import Cluster

    ray.shutdown()  # leave the module's local Ray; its fixture's shutdown is then a no-op
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        executor = RayExecutor(address=cluster.address)
        status = executor.connect()
        assert status.nodes == 2 and status.cpus == 2
        store = RunStore(tmp_path / "store")
        spec = StudySpec(architectures=("flat",), sample_sizes=(60, 120), num_seeds=2, num_epochs=1)
        run_study(spec, digits, RunsService(store, executor))
        nodes = {store.get(row["run_id"]).trained_on for row in store.list_runs()}
        assert len(store.list_runs()) == 4 and len(nodes) == 2  # the run records name both nodes
        executor.shutdown()
    finally:
        ray.shutdown()
        cluster.shutdown()
