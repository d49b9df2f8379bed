"""The queue order on its own (no processes): sessions take turns weighted by their jobs' estimates, a session keeps
its own order, background work comes last, and the waits follow the same order."""

from __future__ import annotations

import itertools

from core.costs import Cost
from core.runs import Job
from core.runs.fair_queue import Entry, FairQueue

numbers = itertools.count(1)


def entry(owner, seconds, asked_at, name=None, background=False) -> Entry:
    job = Job(print, cost=Cost(100, seconds), label=name or f"{owner}{asked_at}", owner=owner, background=background)
    queued = Entry(job, body=None, number=next(numbers))
    queued.waiters.append((None, owner, asked_at))
    return queued


def names(entries) -> list[str]:
    return [queued.job.label for queued in entries]


def test_three_sessions_take_turns_and_a_ten_job_study_does_not_go_first():
    queue = FairQueue()
    for index in range(10):
        queue.add(entry("study", 10.0, asked_at=index * 0.001, name=f"cell{index}"))
    queue.add(entry("B", 2.0, asked_at=1.0, name="B-flat"))
    queue.add(entry("B", 8.0, asked_at=1.0, name="B-conv"))
    queue.add(entry("C", 5.0, asked_at=2.0, name="C-run"))
    order = names(queue.order())
    # Every clock at 0: by finish time, B's 2 s flat, C's 5 s run, then cell0 (10 s, asked before B's conv, which
    # would finish at 2 + 8 = 10 too), B's conv, and only then cell1.
    assert order[:5] == ["B-flat", "C-run", "cell0", "B-conv", "cell1"]
    assert order[5:] == [f"cell{index}" for index in range(2, 10)]  # the study keeps its own order


def test_taking_charges_the_owner_so_a_newcomer_waits_only_for_the_running_job():
    queue = FairQueue()
    for index in range(30):
        queue.add(entry("study", 10.0, asked_at=index * 0.001, name=f"cell{index}"))
    for _ in range(12):  # the study has had twelve cells (120 s of the workers)
        assert queue.take(lambda queued: True).job.owner == "study"
    queue.add(entry("late", 3.0, asked_at=100.0, name="late-run"))
    assert names(queue.order())[0] == "late-run"  # next, not after the 18 remaining cells
    waits = queue.waits(running_left=[4.0], slots=1)
    assert waits[queue.order()[0]] == 4.0  # the running cell's remaining time, not its whole cost
    assert waits[queue.order()[1]] == 7.0


def test_an_owner_that_was_away_does_not_save_up_turns():
    """An owner coming back after others have used the workers starts at the clock of the job started last: the
    study it left is not starved by the turns it did not use."""
    queue = FairQueue()
    queue.add(entry("A", 5.0, asked_at=0.0, name="A-first"))
    assert queue.take(lambda queued: True).job.label == "A-first"
    for index in range(5):
        queue.add(entry("study", 10.0, asked_at=1 + index * 0.001, name=f"cell{index}"))
    for _ in range(3):
        queue.take(lambda queued: True)
    queue.add(entry("A", 30.0, asked_at=50.0, name="A-big"))
    order = names(queue.order())
    assert order.index("A-big") >= 1 and order[0] == "cell3"  # A's long job does not jump the running study's turn


def test_background_work_comes_after_every_asked_job_and_a_job_that_does_not_fit_is_not_overtaken():
    queue = FairQueue()
    queue.add(entry(None, 1.0, asked_at=0.0, name="prepare", background=True))
    queue.add(entry("A", 5.0, asked_at=1.0, name="A-run"))
    queue.add(entry("B", 1.0, asked_at=2.0, name="B-run"))
    assert names(queue.order()) == ["B-run", "A-run", "prepare"]
    assert queue.take(lambda queued: queued.job.label != "B-run") is None  # the head waits for room; nothing jumps it
    assert queue.take(lambda queued: True).job.label == "B-run"


def test_a_job_several_sessions_wait_for_is_in_line_for_the_earliest_of_them():
    queue = FairQueue()
    shared = entry("late", 2.0, asked_at=5.0, name="shared")
    shared.waiters.append((None, "early", 1.0))
    queue.add(shared)
    assert shared.owner == "early"
    queue.add(entry("early", 2.0, asked_at=3.0, name="early-own"))
    assert names(queue.order()) == ["shared", "early-own"]  # within "early"'s line, by its asking time
