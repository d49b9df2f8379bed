"""The queue order on its own (no processes): sessions take turns weighted by their jobs' estimates, a session keeps
its own order, background work comes last, and the waits follow the same order."""

from __future__ import annotations

import itertools

from core.costs import Cost
from core.runs import Job
from core.runs.fair_queue import Entry, FairQueue

numbers = itertools.count(1)


def entry(owner, seconds, asked_at, name=None, background=False, request=None) -> Entry:
    job = Job(print, cost=Cost(100, seconds), label=name or f"{owner}{asked_at}", owner=owner, background=background,
              request=request)
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
    # cell0 goes first (asked first, every clock at 0); then B's flat, C's run and B's conv — their clocks are behind
    # the study's 10 s — and only then cell1.
    assert order[:5] == ["cell0", "B-flat", "C-run", "B-conv", "cell1"]
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


def test_an_owner_that_was_away_gets_the_next_turn_but_does_not_save_up_turns():
    """An owner coming back after others have used the workers starts at the clock of the job started last: it is
    next, but the turns it did not use while away are not owed to it (its second job waits for the study's)."""
    queue = FairQueue()
    queue.add(entry("A", 5.0, asked_at=0.0, name="A-first"))
    assert queue.take(lambda queued: True).job.label == "A-first"
    for index in range(5):
        queue.add(entry("study", 10.0, asked_at=1 + index * 0.001, name=f"cell{index}"))
    for _ in range(3):  # the study's clock: 30 s; the last started at 20 s
        queue.take(lambda queued: True)
    queue.add(entry("A", 30.0, asked_at=50.0, name="A-big"))
    queue.add(entry("A", 1.0, asked_at=51.0, name="A-next"))
    # A starts again at 20 s (not at its own 5 s): A-big, then the study's cells at 30 and 40 s, then A-next at 50 s
    assert names(queue.order()) == ["A-big", "cell3", "cell4", "A-next"]


def test_background_work_comes_after_every_asked_job_and_a_job_that_does_not_fit_is_not_overtaken():
    queue = FairQueue()
    queue.add(entry(None, 1.0, asked_at=0.0, name="prepare", background=True))
    queue.add(entry("A", 5.0, asked_at=1.0, name="A-run"))
    queue.add(entry("B", 1.0, asked_at=2.0, name="B-run"))
    assert names(queue.order()) == ["A-run", "B-run", "prepare"]
    assert queue.take(lambda queued: queued.job.label != "A-run") is None  # the head waits for room; nothing jumps it
    assert queue.take(lambda queued: True).job.label == "A-run"


def test_a_job_several_sessions_wait_for_is_in_line_for_the_earliest_of_them():
    queue = FairQueue()
    shared = entry("late", 2.0, asked_at=5.0, name="shared")
    shared.waiters.append((None, "early", 1.0))
    queue.add(shared)
    assert shared.owner == "early"
    queue.add(entry("early", 2.0, asked_at=3.0, name="early-own"))
    assert names(queue.order()) == ["shared", "early-own"]  # within "early"'s line, by its asking time


def test_one_clicks_runs_take_one_turn_so_no_study_cell_comes_between_them():
    """Issue 35's target: a classmate's comparison within its own training plus one cell. A study of short cells
    (300 images, ~1 s) must not slip a cell between the classmate's flat run and its conv run."""
    def queued(request):
        queue = FairQueue()
        for index in range(10):
            queue.add(entry("study", 1.0, asked_at=index * 0.001, name=f"cell{index}"))
        assert queue.take(lambda one: True).job.label == "cell0"  # running when the classmate clicks
        queue.add(entry("B", 2.0, asked_at=1.0, name="B-flat", request=request))
        queue.add(entry("B", 8.0, asked_at=1.0, name="B-conv", request=request))
        return queue

    apart = queued(request=None)  # two requests of their own: cells between them
    assert names(apart.order())[:2] == ["B-flat", "cell1"]
    together = queued(request="click 1")
    assert names(together.order())[:3] == ["B-flat", "B-conv", "cell1"]
    waits = together.waits(running_left=[0.5], slots=1)
    assert [waits[one] for one in together.order()[:3]] == [0.5, 2.5, 10.5]  # places and waits follow the same order
    started = [together.take(lambda one: True).job.label for _ in range(3)]
    assert started == ["B-flat", "B-conv", "cell1"]  # taking them follows it too
    # ... and the click's turn was charged with both runs (10 s): B's next click waits for the study's 8 s of cells
    together.add(entry("B", 1.0, asked_at=2.0, name="B-next", request="click 2"))
    assert names(together.order()) == [f"cell{index}" for index in range(2, 10)] + ["B-next"]


def test_a_clicks_second_run_queued_after_a_classmates_click_still_goes_with_its_first():
    """Two sessions click together: the first's conv run reaches the queue a moment after the second's flat run
    (each page queues its runs one after the other). The first's request keeps its turn."""
    queue = FairQueue()
    queue.add(entry("study", 3.0, asked_at=0.0, name="cell0"))
    queue.add(entry("study", 3.0, asked_at=0.001, name="cell1"))
    assert queue.take(lambda one: True).job.label == "cell0"
    queue.add(entry("A", 1.5, asked_at=10.0, name="A-flat", request="a"))
    queue.add(entry("B", 1.5, asked_at=10.01, name="B-flat", request="b"))
    queue.add(entry("A", 9.0, asked_at=10.02, name="A-conv", request="a"))
    queue.add(entry("B", 9.0, asked_at=10.03, name="B-conv", request="b"))
    assert names(queue.order()) == ["A-flat", "A-conv", "B-flat", "B-conv", "cell1"]
