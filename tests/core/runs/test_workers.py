"""The workers' queue with real worker processes (no mocks of the pool): order, coalescing, cancel, the memory
budget, a worker killed mid-job, background work yielding to sessions' work."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from core.costs import Cost
from core.runs import Cancelled, Job, OverBudget, WorkerCrashed
from core.runs.worker_process import Slot
from core.runs.workers import WorkerPool
from tests.core.runs import worker_tasks

BIG = 10**6  # MB: a budget nothing reaches, where the budget is not what a test is about


@pytest.fixture
def pool():
    pool = WorkerPool(workers=1, budget_mb=BIG, recycle_mb=BIG, warm=False)
    yield pool
    pool.shutdown()


def job(task, *args, log=None, name=None):
    """A body that runs `task` in the worker and notes `name` in `log` when it starts and ends."""
    def body(call):
        if log is not None:
            log.append(f"{name} started")
        value = call(task, *args)
        if log is not None:
            log.append(f"{name} done")
        return value
    return body


def submit(pool, key, body, peak_mb, seconds=None, label="this job", background=False, asked_at=None, owner="one"):
    """`body` queued as `owner`'s job (the body ignores the job's function: the pool runs the body)."""
    job = Job(body, key=key, cost=Cost(peak_mb, seconds), label=label, owner=owner, background=background)
    return pool.submit(job, body, asked_at)


def wait_in_thread(handle, **kwargs):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("value", handle.result(**kwargs)))
    thread.start()
    return thread, box


def test_jobs_run_first_come_first_served_and_waiters_see_their_place(pool):
    log, places = [], []
    first = submit(pool, "a", job(worker_tasks.count, 4, 0.25, log=log, name="a"), 100, seconds=1.0)
    time.sleep(0.5)  # the first is running
    second = submit(pool, "b", job(worker_tasks.count, 1, 0.0, log=log, name="b"), 100, seconds=4.0)
    third = submit(pool, "c", job(worker_tasks.count, 1, 0.0, log=log, name="c"), 100, seconds=4.0)
    third.result(on_queue=places.append)
    first.result(), second.result()
    assert log == ["a started", "a done", "b started", "b done", "c started", "c done"]
    # the running job's remaining estimate (about 0.5 s of its 1 s) and the 4 s job ahead
    assert places[0].place == 2 and 4 <= places[0].wait_seconds <= 4.6
    assert places[0].describe().startswith("2nd in line")
    seen = [report.place for report in places]
    assert seen == sorted(seen, reverse=True)  # it only moves up


def test_sessions_take_turns_and_one_sessions_jobs_keep_their_order(pool):
    """Issue 35: fair to people, not jobs. Session A asked for two runs before session B asked for one: B's run
    does not wait behind both of A's, and A's two still start in the order A asked."""
    log = []
    busy = submit(pool, "busy", job(worker_tasks.count, 2, 0.25, log=log, name="busy"), 100, owner="x")
    time.sleep(0.3)  # running: the rest queue
    first_click, second_click = time.perf_counter() - 1.0, time.perf_counter() - 0.5
    a1 = submit(pool, "a1", job(worker_tasks.count, 1, 0.0, log=log, name="a1"), 100, asked_at=first_click, owner="A")
    b1 = submit(pool, "b1", job(worker_tasks.count, 1, 0.0, log=log, name="b1"), 100, asked_at=second_click, owner="B")
    a2 = submit(pool, "a2", job(worker_tasks.count, 1, 0.0, log=log, name="a2"), 100, asked_at=first_click, owner="A")
    assert pool.report(a1.entry).place == 1 and pool.report(b1.entry).place == 2 and pool.report(a2.entry).place == 3
    for handle in (busy, a1, b1, a2):
        handle.result()
    assert [entry for entry in log if entry.endswith("started")] == ["busy started", "a1 started", "b1 started",
                                                                      "a2 started"]


def test_a_study_of_ten_cells_does_not_hold_two_classmates_behind_it(pool):
    """Three sessions on one worker: A queues ten 3-second cells, then B and C each ask for one short run. B and C
    start after at most the cell that is running; places and waits follow the same order, coalescing still works."""
    log = []
    cells = [submit(pool, f"a{index}", job(worker_tasks.count, 1, 0.3, log=log, name=f"a{index}"), 100, seconds=3.0,
                    owner="A") for index in range(10)]
    time.sleep(0.3)  # a0 runs
    b = submit(pool, "b", job(worker_tasks.count, 1, 0.0, log=log, name="b"), 100, seconds=1.0, owner="B")
    c = submit(pool, "c", job(worker_tasks.count, 1, 0.0, log=log, name="c"), 100, seconds=1.0, owner="C")
    c_again = submit(pool, "c", job(worker_tasks.count, 1, 0.0, log=log, name="c twice"), 100, seconds=1.0,
                     owner="B")  # B also waits for C's run: one job
    assert c_again.entry is c.entry and c_again.joined
    b_place, c_place, a1_place = (pool.report(handle.entry) for handle in (b, c, cells[1]))
    assert (b_place.place, c_place.place, a1_place.place) == (1, 2, 3)
    assert b_place.wait_seconds <= 3.0 and b_place.wait_seconds < c_place.wait_seconds < a1_place.wait_seconds
    assert b_place.describe().startswith("1st in line") and c_place.describe().startswith("2nd in line")
    for handle in (b, c, c_again, *cells):
        handle.result()
    started = [entry.split()[0] for entry in log if entry.endswith("started")]
    assert started[:3] == ["a0", "b", "c"] and started[3:] == [f"a{index}" for index in range(1, 10)]
    assert "c twice started" not in log  # coalesced: run once for both sessions


def test_a_waiter_is_told_its_place_about_once_a_second_not_at_every_look(pool):
    busy = submit(pool, "busy", job(worker_tasks.count, 1, 3.0), 100, seconds=60.0)
    time.sleep(0.3)
    queued = submit(pool, "queued", job(worker_tasks.count, 1, 0.0), 100, seconds=1.0)
    places = []
    thread, _ = wait_in_thread(queued, on_queue=places.append)
    time.sleep(2.2)
    assert 2 <= len(places) <= 4  # looks every 0.25 s: about 9 looks, one report a second or on a change
    assert places[0].describe() in {"1st in line — about 55 s", "1st in line — about 60 s"}  # in steps of 5 s
    busy.result(), thread.join()


def test_the_same_key_asked_twice_is_one_job_and_both_get_its_result(pool):
    log, events_a, events_b = [], [], []
    a = submit(pool, "run-1", job(worker_tasks.count, 3, 0.1, log=log, name="run-1"), 100)
    b = submit(pool, "run-1", job(worker_tasks.count, 3, 0.1, log=log, name="run-1 again"), 100)
    thread, box = wait_in_thread(b, on_event=events_b.append)
    assert a.result(on_event=events_a.append) > 0
    thread.join()
    assert box["value"] > 0
    assert log == ["run-1 started", "run-1 done"]  # trained once
    assert events_a == [1, 2, 3] and events_b == [1, 2, 3]  # both saw the progress


def test_a_queued_job_whose_waiters_leave_is_dropped_and_a_running_one_finishes(pool):
    log = []
    running = submit(pool, "a", job(worker_tasks.count, 3, 0.2, log=log, name="a"), 100)
    time.sleep(0.3)
    queued = submit(pool, "b", job(worker_tasks.count, 1, 0.0, log=log, name="b"), 100)
    queued.cancel()
    running.cancel()  # it has started: it finishes, its body still sees the result
    last = submit(pool, "c", job(worker_tasks.count, 1, 0.0, log=log, name="c"), 100)
    last.result()
    assert log == ["a started", "a done", "c started", "c done"]


def test_a_job_over_the_budget_is_refused_at_once_with_the_numbers(pool):
    small = WorkerPool(workers=1, budget_mb=pool.server_mb() + 500, warm=False)
    try:
        refusal = r"needs about 2,000 MB.*MEMORY_BUDGET_MB.*the server itself uses"
        with pytest.raises(OverBudget, match=refusal) as refused:
            submit(small, "x", job(worker_tasks.count, 1, 0.0), 2000, label="This training")
        assert "This training" in str(refused.value)
        assert not small.started  # nothing was started for it
    finally:
        small.shutdown()


def test_a_worker_killed_mid_job_is_one_message_and_the_next_job_runs_on_a_new_worker(pool):
    before = submit(pool, None, job(worker_tasks.count, 1, 0.0), 100).result()
    crashed = submit(pool, "doomed", job(worker_tasks.killed), 100)
    with pytest.raises(WorkerCrashed, match="killed \\(signal 9\\).*lack of memory.*new worker"):
        crashed.result()
    after = submit(pool, None, job(worker_tasks.count, 1, 0.0), 100).result()
    assert after != before  # a new process took the dead one's place


def test_a_dead_workers_exit_code_is_read_again_while_the_pools_own_thread_is_reaping_it():
    """The race behind a CI failure: the pool's thread wins waitpid, so for a moment this side reads None."""
    class Reaped:  # a killed process whose exit code shows only after the other thread has stored it
        reads = 0

        def join(self, timeout=None):
            pass

        @property
        def exitcode(self):
            self.reads += 1
            return -9 if self.reads > 3 else None

    slot = SimpleNamespace(context=SimpleNamespace(processes=[Reaped()]))
    assert Slot._exit_code(slot) == -9


def test_a_jobs_own_error_reaches_its_waiter_and_the_queue_goes_on(pool):
    with pytest.raises(ValueError, match="a job's own error"):
        submit(pool, None, job(worker_tasks.fail), 100).result()
    assert submit(pool, None, job(worker_tasks.count, 1, 0.0), 100).result() > 0


def test_background_work_waits_for_sessions_work(pool):
    log = []
    blocker = submit(pool, "a", job(worker_tasks.count, 2, 0.2, log=log, name="a"), 100)
    time.sleep(0.2)
    background = submit(pool, "prepare", job(worker_tasks.count, 1, 0.0, log=log, name="prepare"), 100,
                             background=True)
    session = submit(pool, "b", job(worker_tasks.count, 1, 0.0, log=log, name="b"), 100)
    for handle in (blocker, background, session):
        handle.result()
    assert log.index("b started") < log.index("prepare started")


def test_jobs_that_do_not_fit_beside_each_other_run_one_at_a_time():
    log = []
    pool = WorkerPool(workers=2, budget_mb=BIG, recycle_mb=BIG, warm=False)
    try:
        pool.budget_mb = pool.server_mb() + 1500  # room for one 1,000 MB job at a time, not two
        first = submit(pool, "a", job(worker_tasks.count, 2, 0.3, log=log, name="a"), 1000)
        second = submit(pool, "b", job(worker_tasks.count, 1, 0.0, log=log, name="b"), 1000)
        first.result(), second.result()
        assert log == ["a started", "a done", "b started", "b done"]
    finally:
        pool.shutdown()


def test_queued_work_is_cancelled_when_the_pool_shuts_down():
    pool = WorkerPool(workers=1, budget_mb=BIG, warm=False)
    running = submit(pool, "a", job(worker_tasks.count, 5, 0.2), 100)
    queued = submit(pool, "b", job(worker_tasks.count, 1, 0.0), 100)
    time.sleep(0.3)
    pool.shutdown()
    with pytest.raises(Cancelled):
        queued.result()
    running.cancel()
    with pytest.raises(Cancelled, match="shutting down"):  # was queued for ever: a warm-up's wait never ended
        submit(pool, "c", job(worker_tasks.count, 1, 0.0), 100)


def test_a_worker_spawned_by_the_app_does_not_run_the_app(monkeypatch):
    """Streamlit runs app.py as `__main__` and leaves it installed there, so each spawned worker imports app.py
    again (as `__mp_main__`). It used to import Streamlit and the UI in every worker (memory, seconds of start);
    once the app started workers from its first run, a worker started workers of its own and nothing trained."""
    import sys
    import types
    from pathlib import Path

    app = types.ModuleType("__main__")
    app.__file__ = str(Path(__file__).resolve().parents[3] / "app.py")
    monkeypatch.setitem(sys.modules, "__main__", app)  # as Streamlit's script runner leaves it
    pool = WorkerPool(workers=1, budget_mb=BIG, recycle_mb=BIG, warm=False)
    try:
        seen = submit(pool, None, job(worker_tasks.imported), 0).result()
    finally:
        pool.shutdown()
    assert seen == {"main": app.__file__, "ui": []}


def test_a_stopped_worker_is_reported_within_its_no_progress_limit_and_replaced(monkeypatch):
    """Issue 36: a SIGSTOPped worker stalled the queue for ever ("epoch 2/15 … about 29 s left", no message). A job
    with no progress for max(STALL_MIN_SECONDS, STALL_FACTOR x its estimate) is stopped, its waiters are told, and
    the next job runs on a new worker."""
    import os
    import signal

    from core.runs import workers

    monkeypatch.setattr(workers, "STALL_MIN_SECONDS", 2.0)
    pool = WorkerPool(workers=1, budget_mb=BIG, recycle_mb=BIG, warm=False)
    try:
        events = []
        stuck = submit(pool, "stuck", job(worker_tasks.count, 100, 0.2), 100, seconds=0.5, label="training conv")
        waiting = submit(pool, "next", job(worker_tasks.count, 1, 0.0), 100, owner="two")
        deadline = time.monotonic() + 30
        while not events and time.monotonic() < deadline:  # it is running: it has reported progress
            stuck.deliver(events.append)
            time.sleep(0.05)
        stopped_pid = pool._slots[0].pid
        os.kill(stopped_pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(WorkerCrashed, match=r"stopped: training conv made no progress for \d+ s"):
            stuck.result()
        assert time.monotonic() - started < 2.0 + 5  # the limit, and a look every second
        assert waiting.result() != stopped_pid  # the queue goes on, on a new worker
    finally:
        pool.shutdown()


def test_a_job_waiting_for_a_fresh_worker_says_the_engine_is_starting():
    """Issue 35: on a fresh server the first click waited with no word. While the worker imports TensorFlow, the
    running job's report says so, then plainly "running now"."""
    pool = WorkerPool(workers=1, budget_mb=BIG, recycle_mb=BIG, warm=True)  # the worker imports TensorFlow
    try:
        first = submit(pool, "first", job(worker_tasks.count, 1, 0.0), 100)
        reports = []
        first.result(on_queue=reports.append)
        words = [report.describe() for report in reports]
        assert words[0].startswith("starting the training engine — first time after a restart, about")
        assert pool._slots[0].starting_seconds() is None  # ready now: the next job says nothing of it
        later = submit(pool, "later", job(worker_tasks.count, 2, 0.5), 100)
        time.sleep(0.3)
        assert pool.report(later.entry).describe() == "running now"
        later.result()
    finally:
        pool.shutdown()
