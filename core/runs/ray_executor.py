"""Running a study's cells on a Ray cluster (`python -m core study --executor ray`). Imported only then.

The study decides *what* to run; this executor decides *where*. The driver (this process) owns the run store:
the runs service submits only the cells the store lacks, as jobs that become Ray tasks; the dataset reaches the
workers once, through Ray's object store (no download, no shared disk); a task trains one cell and returns the run
as values (record, test probabilities, the `.keras` archive's bytes, the node it ran on), and the driver writes it
into the store exactly as an in-process run (locked, atomic, indexed), in the job's `around`. Workers get this
project's code through Ray's runtime environment (`working_dir`: the project folder is uploaded to the cluster),
so they need the same requirements installed, nothing else.

Faults: a worker that dies mid-cell (a killed process, a lost node) is retried by Ray, up to `max_retries`
times; a cell that fails for its own reason (an exception) is reported and the others go on; Ctrl-C or a
caller's `cancel` cancels what is outstanding. A restarted study submits nothing that is stored.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import threading
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

from core.data import Dataset
from core.runs.executors import Executor, Handle, Job
from core.safe_text import plain

ROOT = Path(__file__).resolve().parents[2]
UPLOAD_EXCLUDES = [".git", "tests", "docs", "benchmarks", "artifacts", "**/__pycache__", "*.png", ".ci"]
WORKER_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"}


@dataclass(frozen=True)
class ClusterStatus:
    address: str
    nodes: int
    cpus: float
    gpus: float

    def __str__(self) -> str:
        return (f"Ray cluster at {self.address}: {self.nodes} node{'s' if self.nodes != 1 else ''}, "
                f"{self.cpus:g} CPUs, {self.gpus:g} GPUs")


def task_options(cpus_per_cell: float = 1, gpus_per_cell: float = 0, max_retries: int = 2) -> dict:
    """Ray's options for one cell: the resources it declares, and retries of system failures only."""
    if cpus_per_cell <= 0 or gpus_per_cell < 0:
        raise ValueError(f"A cell needs more than 0 CPUs and at least 0 GPUs; got {cpus_per_cell} and {gpus_per_cell}.")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"Retries must be a whole number of 0 or more; got {max_retries!r}.")
    return {"num_cpus": cpus_per_cell, "num_gpus": gpus_per_cell, "max_retries": max_retries,
            "retry_exceptions": False}


def tensorflow_threads(cpus_per_cell: float) -> tuple[int, int]:
    """(intra-op, inter-op) threads for a task given `cpus_per_cell` CPUs: no more threads than CPUs."""
    return max(1, int(cpus_per_cell)), 1


def run_task(function, dataset, args: tuple, cpus_per_cell: float):
    """What a Ray task runs: a job's function on the cluster (core/runs/jobs.py), TensorFlow held to the task's
    CPUs; its value comes back through Ray's object store (a run with its model as .keras bytes). No progress
    events from a cluster."""
    intra, inter = tensorflow_threads(cpus_per_cell)
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:  # a worker reused for another cell of the same study: already set
        pass
    return function(*(args if dataset is None else (dataset, *args)), lambda event: None)


HOST_PATTERN = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})?|\[[0-9A-Fa-f:.]{2,45}\]")
# One cheap call a Ray head answers and no other server does: the GCS's cluster id for HOST:PORT, the Ray client
# server's cluster info for ray://HOST:PORT (method names from Ray's gcs_service.proto and ray_client.proto). An
# empty request is a valid protobuf message of any type, so no Ray import is needed to ask.
RAY_PROBES = {"": "/ray.rpc.NodeInfoGcsService/GetClusterId", "ray": "/ray.rpc.RayletDriver/ClusterInfo"}


def parse_address(address: str) -> tuple[str, int] | None:
    """(host, port) of a Ray address ('HOST:PORT' or 'ray://HOST:PORT'); None for 'auto' and 'local' (left to
    Ray). ValueError, naming what is wrong, for anything else."""
    if not isinstance(address, str) or address in ("auto", "local"):
        return None
    shown = plain(address, 80)
    scheme, separator, target = address.partition("://")
    if not separator:
        scheme, target = "", address
    if scheme not in ("", "ray") or not target:
        raise ValueError(f"{shown} is not a Ray address: give HOST:PORT (the head's GCS port, 6379 by default) or "
                         f"ray://HOST:PORT.")
    host, colon, port = target.rpartition(":")
    if not colon or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{shown} has no usable port: give HOST:PORT with a port from 1 to 65535.")
    host = host or "127.0.0.1"
    if not HOST_PATTERN.fullmatch(host):
        raise ValueError(f"{shown} has no usable host name.")
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Within about 2 x `timeout` seconds: ValueError for an address that is not one, ConnectionError when nothing
    answers there or what answers is not a Ray head. Needed because `ray.init` has no time bound of its own: it
    retries for minutes on a silent port, and forever on a gRPC server that is not Ray's (measured with Ray 2.60).
    'auto' and 'local' are left to Ray."""
    target = parse_address(address)
    if target is None:
        return
    shown = plain(address, 80)
    try:
        socket.create_connection(target, timeout=timeout).close()
    except OSError as error:
        raise ConnectionError(f"Nothing answers at {shown} ({error.strerror or error}). Start the cluster's head "
                              f"there with `ray start --head`, or check the address.") from None
    import grpc  # installed with Ray

    not_ray = {grpc.StatusCode.UNIMPLEMENTED,  # a gRPC server without Ray's method
               grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,  # no gRPC answer in time
               grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}  # an answer that is not gRPC
    host, port = target
    method = RAY_PROBES["ray" if address.startswith("ray://") else ""]
    with grpc.insecure_channel(f"[{host}]:{port}" if ":" in host else f"{host}:{port}") as channel:
        try:
            channel.unary_unary(method)(b"", timeout=timeout)
        except grpc.RpcError as error:
            # A Ray head may refuse a caller without its cluster's id (UNAUTHENTICATED, Ray 2.60): the method exists.
            if error.code() in not_ray:
                raise ConnectionError(f"Something answers at {shown}, but not a Ray cluster's head "
                                      f"({error.code().name} within {timeout:g} s). Give the head's address as `ray "
                                      f"start --head` prints it (port 6379 by default; ray://HOST:10001 for Ray's "
                                      f"client).") from None


def init_quietly(**options) -> None:
    """`ray.init(**options)`, Ray's own errors turned into one ConnectionError whose message is a line. In the
    calling thread: Ray's driver started from another thread ended the whole process with exit status 1 (seen
    in the Study page's test), so the time bound is the probe's (`check_reachable`, a real Ray call with a
    deadline) before it, not a thread."""
    import ray

    try:
        ray.init(**options)
    except Exception as error:  # handed to the caller, who says it in one line
        first = plain(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__, 300)
        raise ConnectionError(f"Could not join the Ray cluster at {options.get('address') or 'this machine'}: "
                              f"{first}") from None


def ray_joined() -> bool:
    """True when this process has already joined a Ray cluster, without importing Ray. A Ray another thread is still
    importing (another session's study) counts as not joined: its half-built module has no `is_initialized` yet."""
    ray = sys.modules.get("ray")
    is_initialized = getattr(ray, "is_initialized", None)
    return bool(is_initialized and is_initialized())


class RayExecutor(Executor):
    """Connects to a Ray cluster (`address`, else RAY_ADDRESS, else a new local one on this machine) and runs
    cells there."""

    name = "ray"

    def __init__(self, address: str | None = None, cpus_per_cell: float = 1, gpus_per_cell: float = 0,
                 max_retries: int = 2, local_cpus: int | None = None):
        self.options = task_options(cpus_per_cell, gpus_per_cell, max_retries)
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.local_cpus = local_cpus
        self._lock = threading.Lock()
        self._pending: dict = {}      # handle -> its running task's ObjectRef
        self._cancelled: set = set()  # handles cancelled before their task was submitted
        self._datasets: dict = {}     # dataset key -> its ObjectRef
        # One thread per job in flight waits for its task (Ray schedules them on the cluster): at most this many.
        self._threads = futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="ray-job")

    @property
    def slots(self) -> int:
        """Cells the cluster runs at once (its CPUs over each cell's), once connected."""
        import ray

        if not ray.is_initialized():
            return 1
        return max(1, int(self.status().cpus // self.options["num_cpus"]))

    def connect(self) -> ClusterStatus:
        if self.address and not ray_joined():
            check_reachable(self.address)  # before Ray is imported: a bad address is one line, never Ray's traceback
        import ray

        if not ray.is_initialized():
            runtime_env = {"working_dir": str(ROOT), "excludes": UPLOAD_EXCLUDES, "env_vars": WORKER_ENV}
            quiet = {"runtime_env": runtime_env, "log_to_driver": False, "logging_level": logging.WARNING}
            if self.address:
                init_quietly(address=self.address, **quiet)
            else:
                init_quietly(num_cpus=self.local_cpus, include_dashboard=False, **quiet)
        status = self.status()
        largest_cpus = max((node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]), default=0)
        if self.options["num_cpus"] > largest_cpus:
            raise ValueError(f"A cell asks for {self.options['num_cpus']:g} CPUs but the largest node of the "
                             f"cluster has {largest_cpus:g}: lower --cpus-per-cell.")
        if self.options["num_gpus"] > status.gpus:
            raise ValueError(f"A cell asks for {self.options['num_gpus']:g} GPUs but the cluster has "
                             f"{status.gpus:g}: leave out --gpus-per-cell or add GPU nodes.")
        return status

    def status(self) -> ClusterStatus:
        import ray

        resources = ray.cluster_resources()
        alive = [node for node in ray.nodes() if node["Alive"]]
        address = ray.get_runtime_context().gcs_address
        return ClusterStatus(address, len(alive), resources.get("CPU", 0.0), resources.get("GPU", 0.0))

    def submit(self, job: Job) -> Handle:
        """Run `job` as a Ray task (connecting first if needed); its `around` runs in a thread of this process, which
        waits for the task. A task's own failure (an exception) reaches the handle as that exception; a worker lost
        beyond its retries as Ray's error. Cancel drops a task not started and stops a running one."""
        import ray

        self.connect()
        handle = Handle(on_cancel=self._cancel)
        data = None if job.dataset is None else self._put(job.dataset)
        remote = ray.remote(run_task).options(**self.options)

        def work():
            reference = remote.remote(job.function, data, job.args, self.options["num_cpus"])
            with self._lock:
                if handle in self._cancelled:
                    ray.cancel(reference, force=True)
                self._pending[handle] = reference
            try:
                return ray.get(reference)
            except ray.exceptions.RayTaskError as failure:  # the task's own error, e.g. a network that cannot train
                raise failure.cause if isinstance(failure.cause, Exception) else failure from None
            finally:
                with self._lock:
                    self._pending.pop(handle, None)

        def perform() -> None:  # no `handle.started()`: when the cluster starts the task, this process cannot tell
            try:
                handle.finish(job.perform(work))
            except BaseException as error:  # Ray's lost worker or a cancelled task, beyond its retries
                handle.finish(error=error)

        self._threads.submit(perform)
        return handle

    def _put(self, dataset: Dataset):
        """The dataset in Ray's object store, once per dataset (every task reads it from there)."""
        import ray

        with self._lock:
            if dataset.key not in self._datasets:
                self._datasets[dataset.key] = ray.put(dataset)
            return self._datasets[dataset.key]

    def _cancel(self, handle: Handle) -> None:
        import ray

        with self._lock:
            self._cancelled.add(handle)
            reference = self._pending.pop(handle, None)
        if reference is not None:
            ray.cancel(reference, force=True)

    def start(self) -> None:
        self.connect()

    def shutdown(self) -> None:
        """Leave the cluster; a local Ray this executor started is stopped."""
        import ray

        for handle in list(self._pending):
            self._cancel(handle)
        self._threads.shutdown(wait=False, cancel_futures=True)
        if ray.is_initialized():
            ray.shutdown()
