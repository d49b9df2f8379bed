"""Model work in local worker processes (the app's executor): jobs go through the workers' fair queue
(core/runs/workers.py) and come back as values; a job's `around` (storing a run) runs in the server.

A job's dataset is not sent: a worker loads it by name, as the server did, and checks that it has the same
fingerprint (`Dataset.key`; core/runs/jobs.py `with_dataset`).
"""

from __future__ import annotations

from core.runs.executors import Executor, Handle, Job
from core.runs.jobs import with_dataset
from core.runs.workers import WorkerPool


class WorkerExecutor(Executor):
    """Runs jobs in local worker processes, one fair queue for every session of the server."""

    def __init__(self, pool: WorkerPool | None = None):
        self.pool = pool or WorkerPool()

    @property
    def slots(self) -> int:
        return self.pool.num_workers

    @property
    def budget(self):
        return self.pool.budget

    def submit(self, job: Job) -> Handle:
        """Queue `job` (joining one already queued or running under its key). OverBudget, with what would fit, for
        a job the memory budget cannot hold even alone."""
        if job.dataset is None:
            function, args = job.function, job.args
        else:
            function, args = with_dataset, (job.function, job.dataset.name, job.dataset.key, *job.args)
        return self.pool.submit(job, lambda call: job.perform(lambda: call(function, *args)))

    def start(self) -> None:
        """The workers start now; each imports TensorFlow at once."""
        self.pool.start()

    def shutdown(self) -> None:
        """The app's pool lives as long as the server; a pool made for one caller is stopped by it."""
        self.pool.shutdown()
