"""The workers' queue order: fair to people, not to jobs.

Every queued job belongs to an owner (a browser session; a job several sessions wait for belongs to the one that
asked first). Owners take turns by start-time fair queuing (Goyal, Vin and Cheng, "Start-time fair queueing: a
scheduling algorithm for integrated services packet switching networks", SIGCOMM 1996): each owner has a virtual
clock that advances by the estimated seconds of each of its jobs that starts, and the next job is the head of the
owner whose clock reads least. A classmate who asks while a study runs is served as soon as the running cell ends,
for as long as its own clock stays behind the study's (a comparison's two runs, typically), instead of behind all
the study's cells; a study's cells then take their turns again. An owner that was idle starts at the clock of the
job started last: nobody saves up turns while away. Within one owner, jobs keep the order asked. An owner's jobs of
one request (a Train click's flat and conv runs: `Job.request`) take one turn: the first to start charges the clock
with all their seconds, and the others share its start tag, so no study cell comes between them. Background jobs
(head starts) come after every asked job.

(Finish tags — each owner's clock after its next job, as in weighted fair queuing — were tried first: a study's many
cheap cells then went before a classmate's one long run, 8th in line behind them.)

Pure bookkeeping, no threads: the pool (core/runs/workers.py) holds its lock while calling it.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SECONDS = 2.0  # a job without an estimate (a prediction, a download) counts as this long


@dataclass(eq=False)
class Entry:
    """A queued (then running) job and everyone waiting for it: (handle, owner, asked_at) per waiter."""
    job: Any                      # core.runs.executors.Job
    body: Callable                # body(call) -> value, run by the pool; call(fn, *args) runs fn in a worker
    number: int
    waiters: list = field(default_factory=list)
    started: float | None = None  # perf_counter when it started running
    progressed: float | None = None  # perf_counter of its start or its last progress event
    done: bool = False

    @property
    def first(self) -> tuple:
        """(asked_at, owner) of the waiter who asked first: the job's place in its owner's line."""
        return min(((asked_at, owner) for _, owner, asked_at in self.waiters), key=lambda pair: pair[0],
                   default=(float("inf"), None))

    @property
    def owner(self) -> Hashable | None:
        return self.first[1]

    @property
    def request(self) -> Hashable | None:
        """The request (one click) this job is part of; None: a request of its own."""
        return self.job.request

    @property
    def seconds(self) -> float:
        seconds = self.job.cost.seconds
        return DEFAULT_SECONDS if seconds is None else float(seconds)

    def sort_key(self) -> tuple:
        return (self.first[0], self.number)


class FairQueue:
    """Queued entries, and the order in which they will start."""

    def __init__(self):
        self.entries: list[Entry] = []
        self._clock: dict[Hashable, float] = {}  # owner -> virtual seconds: its jobs started so far, weighted
        self._now = 0.0                           # the virtual start of the latest job started
        self._turn: dict[Hashable, tuple] = {}    # owner -> (request, its start tag): the request being served

    def __contains__(self, entry: Entry) -> bool:
        return entry in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def remove(self, entry: Entry) -> None:
        if entry in self.entries:
            self.entries.remove(entry)

    def order(self) -> list[Entry]:
        """Every queued entry in the order it will start (asked jobs by fair turns, then background ones)."""
        return [entry for entry, _ in self._schedule()]

    def take(self, fits: Callable[[Entry], bool]) -> Entry | None:
        """The next entry, removed and charged to its owner, if `fits(it)` (the memory budget); else None: strictly
        in order, so a big job is not overtaken for ever by small ones."""
        schedule = self._schedule()
        if not schedule or not fits(schedule[0][0]):
            return None
        entry, start = schedule[0]
        self.entries.remove(entry)
        if not entry.job.background:
            self._now = max(self._now, start)
            if not self._in_turn(self._turn, entry):
                self._clock[entry.owner] = start + self._request_seconds(entry, self.entries)
                self._turn[entry.owner] = (entry.request, start)
        return entry

    @staticmethod
    def _in_turn(turn: dict, entry: Entry) -> bool:
        """True when `entry` belongs to the request its owner is being served (its turn is charged already)."""
        served = turn.get(entry.owner)
        return entry.request is not None and served is not None and served[0] == entry.request

    @staticmethod
    def _request_seconds(entry: Entry, others) -> float:
        """The estimated seconds of `entry` and its owner's other queued jobs of the same request."""
        if entry.request is None:
            return entry.seconds
        return entry.seconds + sum(other.seconds for other in others if other is not entry and not other.job.background
                                   and other.owner == entry.owner and other.request == entry.request)

    def waits(self, running_left: list[float], slots: int) -> dict[Entry, float]:
        """Seconds until each queued entry starts: `slots` workers, the running jobs' remaining seconds
        `running_left`, and each job ahead its estimate."""
        free = sorted(list(running_left) + [0.0] * max(0, slots - len(running_left)))[:max(1, slots)]
        heapq.heapify(free)
        waits = {}
        for entry in self.order():
            start = heapq.heappop(free)
            waits[entry] = start
            heapq.heappush(free, start + entry.seconds)
        return waits

    def _schedule(self) -> list[tuple[Entry, float]]:
        """(entry, its virtual start) in start order, simulated on copies of the owners' clocks."""
        lines: dict[Hashable, list[Entry]] = {}
        for entry in sorted((entry for entry in self.entries if not entry.job.background), key=Entry.sort_key):
            lines.setdefault(entry.owner, []).append(entry)
        clock, turn, now, schedule = dict(self._clock), dict(self._turn), self._now, []

        def start_tag(owner) -> float:
            head = lines[owner][0]
            return turn[owner][1] if self._in_turn(turn, head) else max(clock.get(owner, 0.0), now)

        while lines:
            # on equal tags, a request being served finishes its turn before another's starts (its runs may have
            # been queued a moment apart, another session's click between them)
            owner = min(lines, key=lambda owner: (start_tag(owner), not self._in_turn(turn, lines[owner][0]),
                                                  lines[owner][0].sort_key()))
            start = start_tag(owner)
            entry = lines[owner].pop(0)
            schedule.append((entry, start))
            if not self._in_turn(turn, entry):
                clock[owner] = start + self._request_seconds(entry, lines[owner])
                turn[owner] = (entry.request, start)
            now = max(now, start)
            if not lines[owner]:
                del lines[owner]
        background = sorted((entry for entry in self.entries if entry.job.background), key=lambda entry: entry.number)
        return schedule + [(entry, now) for entry in background]
