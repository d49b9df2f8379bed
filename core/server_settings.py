"""The server's settings, declared once and checked all at once: TRAIN_WORKERS, MEMORY_BUDGET_MB, WORKER_RECYCLE_MB,
RUN_STORE_MAX_MB (environment variables), with defaults derived from what the host gives (core/host.py).

`check()` never raises: a value that is not what its setting accepts is one line in `problems` and its default
is used; a setting that asks for more than the host holds is one line and the bound is used; a server too small
to train has `training_off` saying why in one sentence, and everything that needs no training goes on.

The memory budget (MEMORY_BUDGET_MB unset) is in the units the worker pool counts: resident memory (RSS), as
core/costs.py estimates it. A container's limit is in other units: what its cgroup is charged. RSS counts the
library files mapped into each process (a worker's RssFile is 388-402 MB, measured after import and after
training), which a cgroup charges once for all processes and gives back under pressure (the kernel drops the cold
pages and re-reads them when needed); it does not count the kernel's own memory for the processes or the data
files' pages. So:

    no container limit:  DEFAULT_BUDGET_MB (2,400 MB, today's default)
    a limit of L MB:     L - HEADROOM_MB + LIBRARY_PAGES_MB × workers

Measured with the server and one worker in a real memory cgroup, importing a fresh copy of the libraries
(benchmarks/bench_classroom.py --memory-mb, benchmarks/README.md "A class in a container"), one session pressing
Train on the defaults (flat and conv, 1,000 images, 12 epochs):

    limit        click->results  training  tree's peak RSS  cgroup
    unlimited    27.5 s          15.5 s    1,106 MB         peak charge 1,592 MB (page cache of every file read)
    800 MB       29.1 s          14.8 s      787 MB         full, failcnt 443,170, no OOM kill
    740 MB       35.1 s          19.4 s      735 MB         full, failcnt 637,365, no OOM kill
    700 MB       40.0 s          15.9 s      708 MB         full, failcnt 2,508,789, no OOM kill
    690 MB       issue 35, two sessions: no result after 9 minutes (the kernel re-read TensorFlow's pages for ever)

- LIBRARY_PAGES_MB = 400: at 800 MB the tree trained at full speed with 319 MB of its unconstrained RSS left out
  (1,106 -> 787 MB): those are a worker's library pages. Added back per worker, the budget at 800 MB (1,160 MB)
  holds what the pool admits for the defaults (the server's ~265 MB and conv's estimate of 885 MB).
- HEADROOM_MB = 40: what the cgroup holds outside every process's RSS — the kernel's memory for the processes,
  the data files' pages, sockets; at 800 MB that was 13 MB (800 - 787) — three times over.
- TRAINING_FLOOR_MB = 800: below it every click slows down (1.3x at 740 MB, 1.45x at 700 MB, mostly TensorFlow's
  import re-reading its pages) and then, a few MB lower or with a second session's pages, the worker thrashes
  (690 MB); the app turns training off there and says so, rather than leave its users waiting with no word.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from core import env, host
from core.costs import WORKER_BASE_MB

log = logging.getLogger(__name__)

DEFAULT_BUDGET_MB = 2400    # no container limit: today's default (Community Cloud gives an app 690 MB-2.7 GB)
DEFAULT_RECYCLE_MB = 1800   # a worker past this after a job is replaced before the next
DEFAULT_STORE_MAX_MB = 2048
# A class shares the workers: a study over these asks first, and one over the caps is refused (issue 35: a link of
# 2,880 cells offered ~86 days of work). Ten minutes is about the README's 60-cell study on 2 cores.
DEFAULT_STUDY_ASK_MINUTES = 10
DEFAULT_STUDY_MAX_CELLS = 500
DEFAULT_STUDY_MAX_MINUTES = 240
SERVER_MB = 300             # the web server's own resident memory with the worker pool (~265 MB measured, issue 35)
HEADROOM_MB = 40            # see the module's docstring
LIBRARY_PAGES_MB = 400      # see the module's docstring
TRAINING_FLOOR_MB = 800     # the smallest container whose server and one worker train the defaults at full speed


@dataclass(frozen=True)
class ServerSetting:
    """One environment variable of the server: its bounds, its default (None: derived from the host), its help."""
    name: str
    minimum: float
    default: float | None
    help: str
    unit: str = ""
    whole: bool = True
    above: bool = False  # the minimum itself is refused

    def read(self, environ: Mapping[str, str]) -> tuple[float | None, str | None]:
        """(value, None), (None, None) when unset or blank, or (None, the problem in one sentence)."""
        try:  # core/env.py's one parser
            value = env.parse(self.name, environ.get(self.name, ""), math.nan, self.minimum, whole=self.whole,
                              unit=self.unit, above=self.above)
        except ValueError as error:
            return None, str(error)
        return (None, None) if isinstance(value, float) and math.isnan(value) else (value, None)


TRAIN_WORKERS = ServerSetting(
    "TRAIN_WORKERS", 0, None, "worker processes that train (0: in the server itself, for one user on a laptop); "
    "default: one per two usable CPUs, at least one, as many as the memory budget holds")
MEMORY_BUDGET_MB = ServerSetting(
    "MEMORY_BUDGET_MB", 300, None, "the resident memory the server and its workers may use, in MB; default: the "
    "container's memory limit less a headroom, else 2,400", unit="megabytes")
WORKER_RECYCLE_MB = ServerSetting(
    "WORKER_RECYCLE_MB", 100, DEFAULT_RECYCLE_MB, "a worker grown past this many MB after a job is replaced",
    unit="megabytes")
RUN_STORE_MAX_MB = ServerSetting(
    "RUN_STORE_MAX_MB", 0, DEFAULT_STORE_MAX_MB, "the run store's size limit in MB; beyond it the least recently "
    "used runs are removed", unit="megabytes", whole=False, above=True)
STUDY_ASK_MINUTES = ServerSetting(
    "STUDY_ASK_MINUTES", 0, DEFAULT_STUDY_ASK_MINUTES, "a study whose missing cells would take longer than this (in "
    "minutes of the workers' time) asks its user to confirm before it is queued", unit="minutes", whole=False)
STUDY_MAX_CELLS = ServerSetting(
    "STUDY_MAX_CELLS", 1, DEFAULT_STUDY_MAX_CELLS, "the most cells a study started from the app may train (the CLI "
    "has no limit)")
STUDY_MAX_MINUTES = ServerSetting(
    "STUDY_MAX_MINUTES", 0, DEFAULT_STUDY_MAX_MINUTES, "the longest a study started from the app may keep the workers "
    "busy, in minutes (the CLI has no limit)", unit="minutes", whole=False, above=True)
SETTINGS = (TRAIN_WORKERS, MEMORY_BUDGET_MB, WORKER_RECYCLE_MB, RUN_STORE_MAX_MB, STUDY_ASK_MINUTES,
            STUDY_MAX_CELLS, STUDY_MAX_MINUTES)


@dataclass(frozen=True)
class ServerSettings:
    """Every server setting as it is in force, where each came from, and what was wrong."""
    workers: int                 # 0: training happens in the server process
    budget_mb: float             # the memory budget, in resident MB (core/runs/workers.py)
    recycle_mb: float
    store_max_mb: float
    memory: host.MemoryLimit
    cpus: host.Cpus
    threads: tuple[int, int]     # TensorFlow's (intra-op, inter-op) threads in each worker
    sources: dict = field(default_factory=dict)  # setting name -> where its value came from
    problems: tuple = ()         # one sentence per setting that was refused or bounded
    training_off: str | None = None  # why nothing can train here (None: training is on)
    study_ask_minutes: float = DEFAULT_STUDY_ASK_MINUTES
    study_max_cells: int = DEFAULT_STUDY_MAX_CELLS
    study_max_minutes: float = DEFAULT_STUDY_MAX_MINUTES

    @property
    def training(self) -> bool:
        return self.training_off is None

    def lines(self) -> list[str]:
        """What is in force, one line per setting (the Runs page and `python -m core server`)."""
        return [f"Memory: {self.memory.describe()}; CPUs: {self.cpus.describe()}.",
                f"MEMORY_BUDGET_MB: {self.budget_mb:,.0f} MB ({self.sources['MEMORY_BUDGET_MB']}).",
                f"TRAIN_WORKERS: {self.workers} ({self.sources['TRAIN_WORKERS']}); TensorFlow threads per worker: "
                f"{self.threads[0]} intra-op, {self.threads[1]} inter-op.",
                f"WORKER_RECYCLE_MB: {self.recycle_mb:,.0f} MB ({self.sources['WORKER_RECYCLE_MB']}).",
                f"RUN_STORE_MAX_MB: {self.store_max_mb:,.0f} MB ({self.sources['RUN_STORE_MAX_MB']}).",
                f"A study from the app: asks first above {self.study_ask_minutes:,g} min (STUDY_ASK_MINUTES); at most "
                f"{self.study_max_cells:,} cells (STUDY_MAX_CELLS) and {self.study_max_minutes:,g} min "
                f"(STUDY_MAX_MINUTES).",
                "Training: " + ("on." if self.training else f"off. {self.training_off}")]


def check(environ: Mapping[str, str] | None = None, memory: host.MemoryLimit | None = None,
          cpus: host.Cpus | None = None, log_problems: bool = True) -> ServerSettings:
    """The settings in `environ` (default os.environ) on a host with `memory` and `cpus` (default: read from this
    process's cgroups). Never raises: see the module's docstring. New problems are logged once per process (unless
    `log_problems` is False: the CLI prints them itself)."""
    environ = os.environ if environ is None else environ
    memory = memory or host.memory_limit()
    cpus = cpus or host.usable_cpus()
    given, problems, sources = {}, [], {}
    for setting in SETTINGS:
        value, problem = setting.read(environ)
        given[setting.name] = value
        if problem:
            problems.append(f"{problem} {_fallback(setting)}")

    workers, sources["TRAIN_WORKERS"] = _wanted_workers(given["TRAIN_WORKERS"], cpus)
    bound, why = _worker_bound(given["MEMORY_BUDGET_MB"], memory, cpus)
    if workers > max(bound, 1):
        if given["TRAIN_WORKERS"] is not None:
            problems.append(f"TRAIN_WORKERS={workers} asks for more workers than this server can run ({why}): "
                            f"using {max(bound, 1)}.")
        sources["TRAIN_WORKERS"] += f", bounded by {why}"
        workers = max(bound, 1)
    budget, sources["MEMORY_BUDGET_MB"] = _budget(given["MEMORY_BUDGET_MB"], memory, max(1, workers))
    training_off = _training_off(given["MEMORY_BUDGET_MB"], memory, budget, workers)
    recycle = given["WORKER_RECYCLE_MB"] or DEFAULT_RECYCLE_MB
    store_max = given["RUN_STORE_MAX_MB"] or DEFAULT_STORE_MAX_MB
    for name in ("WORKER_RECYCLE_MB", "RUN_STORE_MAX_MB", "STUDY_ASK_MINUTES", "STUDY_MAX_CELLS", "STUDY_MAX_MINUTES"):
        sources[name] = "set" if given[name] is not None else "default"

    def chosen(setting: ServerSetting):
        return setting.default if given[setting.name] is None else given[setting.name]

    settings = ServerSettings(int(workers), float(budget), float(recycle), float(store_max), memory, cpus,
                              thread_pools(cpus, int(workers)), sources, tuple(problems), training_off,
                              float(chosen(STUDY_ASK_MINUTES)), int(chosen(STUDY_MAX_CELLS)),
                              float(chosen(STUDY_MAX_MINUTES)))
    if log_problems:
        _log_once(settings)
    return settings


def thread_pools(cpus: host.Cpus, workers: int) -> tuple[int, int]:
    """(intra-op, inter-op) TensorFlow threads for each of `workers` workers sharing `cpus`: the whole CPUs each
    gets (at least 1), for both pools, as TensorFlow does by itself with the cores it sees. Measured on 2 CPUs (the
    student's conv net, 1,000 images, 12 epochs; 3 runs each): 2 and 2 threads 13.2 s, TensorFlow's own choice
    13.4 s, 2 and 1 14.5 s, 1 and 1 19.3 s."""
    per_worker = max(1, cpus.whole // max(1, workers))
    return per_worker, per_worker


def _fallback(setting: ServerSetting) -> str:
    if setting.default is not None:
        return f"Using the default, {setting.default:,g}."
    return "Using the default, read from this host."


def _wanted_workers(given: float | None, cpus: host.Cpus) -> tuple[int, str]:
    if given is not None:
        return int(given), "set"
    return max(1, cpus.whole // 2), f"default: one per two of {cpus.describe()}"


def _budget(given: float | None, memory: host.MemoryLimit, workers: int) -> tuple[float, str]:
    if given is not None:
        return float(given), "set"
    if memory.megabytes is None:
        return float(DEFAULT_BUDGET_MB), f"default; {memory.source}"
    budget = memory.megabytes - HEADROOM_MB + LIBRARY_PAGES_MB * workers
    return budget, (f"from the container's {memory.megabytes:,.0f} MB limit ({memory.source}): less "
                    f"{HEADROOM_MB} MB headroom, plus {LIBRARY_PAGES_MB} MB of shared library pages per worker")


def _worker_bound(given_budget: float | None, memory: host.MemoryLimit, cpus: host.Cpus) -> tuple[int, str]:
    """The most workers this host holds: one per whole CPU, and no more than the budget holds beside the server."""
    bound, why = cpus.whole, f"{cpus.describe()}"
    for workers in range(cpus.whole, 0, -1):
        budget, _ = _budget(given_budget, memory, workers)
        if SERVER_MB + workers * WORKER_BASE_MB <= budget:
            break
        bound = workers - 1
        why = f"a {budget:,.0f} MB memory budget holds {bound} beside the server"
    return bound, why


def _training_off(given_budget: float | None, memory: host.MemoryLimit, budget: float, workers: int) -> str | None:
    if given_budget is None and memory.megabytes is not None and memory.megabytes < TRAINING_FLOOR_MB:
        return (f"This server has {memory.megabytes:,.0f} MB; training needs about {TRAINING_FLOOR_MB:,} MB. "
                f"Stored comparisons, studies and shared links still open.")
    needed = WORKER_BASE_MB + (SERVER_MB if workers > 0 else 0)
    if budget < needed:
        return (f"The memory budget (MEMORY_BUDGET_MB) is {budget:,.0f} MB; training needs about {needed:,.0f} MB "
                f"(TensorFlow in a worker, and the server). Stored comparisons, studies and shared links still open.")
    return None


_said: set = set()


def _log_once(settings: ServerSettings) -> None:
    for line in [*settings.problems, *([settings.training_off] if settings.training_off else [])]:
        if line not in _said:
            _said.add(line)
            log.warning(line)
