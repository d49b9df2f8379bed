"""Running a study: every cell (arm x sample size x seed) is an ordinary run in the run store, so a study reuses
what is trained already and an interrupted study resumes where it stopped."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from core import costs
from core.config import TrainConfig
from core.data import Dataset
from core.pixels import arm_label
from core.runs import Outcome, RunsService
from core.study.spec import StudySpec
from core.records import OnEpoch


@dataclass(frozen=True)
class CellReport:
    index: int        # 1-based
    total: int
    config: TrainConfig
    cached: bool      # already in the store: nothing to train
    # A report when a cell has finished (a report when it starts has seconds None):
    node: str | None = None            # where it trained
    seconds: float | None = None       # submission to result
    error: str | None = None           # why it failed, if it did (the study goes on)
    running: int = 0                   # cells still running or waiting
    eta_seconds: float | None = None   # for those, from the pace so far


class StudyProgress:
    """A study's cell reports in words, one line each, for the CLI (printed) and the Study page (on its bar), and
    the cells that failed. `slots`: cells the executor runs at once (the rest of those not done wait)."""

    def __init__(self, slots: int = 1):
        self.slots = slots
        self.failures: list[str] = []

    @staticmethod
    def cell_words(config: TrainConfig) -> str:
        """'flat, 100 images, seed 0'; a network on shuffled pixels named as the study's tables name it:
        'flat (shuffled), 100 images, seed 0'."""
        return f"{arm_label(config.architecture, config.pixels)}, {config.sample_size:,} images, seed {config.seed}"

    def line(self, cell: CellReport) -> str:
        what = self.cell_words(cell.config)
        if cell.seconds is None:  # starting, or stored
            return f"Cell {cell.index} of {cell.total}: {what}" + (" (stored)" if cell.cached else "")
        running = int(min(cell.running, self.slots))
        eta = f" · about {cell.eta_seconds:.0f} s left" if cell.eta_seconds else ""
        if cell.error:
            self.failures.append(f"{what}: {cell.error}")
            last = f"{what} failed: {cell.error}"
        else:
            where = f" on {cell.node}" if cell.node else ""  # an executor that can tell
            last = f"last: {what}{where} in {cell.seconds:.1f} s"
        return (f"{cell.index} of {cell.total} cells done · {running} running · {cell.running - running} waiting"
                f"{eta} · {last}")

    @staticmethod
    def fraction(cell: CellReport) -> float:
        """The share of the study done: a finished cell counts, a starting one not yet."""
        return (cell.index - (cell.seconds is None)) / cell.total


def run_study(spec: StudySpec, dataset: Dataset, service: RunsService,
              on_cell: Callable[[CellReport], None] | None = None, on_epoch: OnEpoch = None,
              owner: Hashable | None = None) -> list[Outcome]:
    """Train every missing cell through the service's executor (reusing stored ones) and return the outcomes
    of the stored cells, in the spec's order.

    `on_cell` hears first of the stored cells, then, for each missing one, when it starts (where the executor
    can tell: in this process) and when it has finished, with where it trained, its time and the time left.
    Whatever the executor, every run lands in the service's store under the same run id. `owner` (a session) is
    who asks: a shared queue takes the study's cells in turns with other sessions' work."""
    configs = spec.configs(dataset.pool_size)
    report = on_cell or (lambda cell: None)
    stored = [config for config in configs if service.has(config, dataset)]
    missing = [config for config in configs if config not in stored]
    for index, config in enumerate(stored, start=1):
        report(CellReport(index, len(configs), config, cached=True))
    started = 0

    def on_start(config: TrainConfig) -> None:
        nonlocal started
        started += 1
        report(CellReport(len(stored) + started, len(configs), config, cached=False))

    outcomes = {}
    for cell in service.train_missing(missing, dataset, on_start=on_start, on_epoch=on_epoch, owner=owner):
        if cell.outcome is not None:
            outcomes[cell.config] = cell.outcome
        report(CellReport(len(stored) + cell.done, len(configs), cell.config,
                          cached=cell.outcome is not None and cell.outcome.cached, node=cell.node,
                          seconds=cell.seconds, error=cell.error, running=cell.running, eta_seconds=cell.eta_seconds))
    for config in stored:
        run = service.get(config, dataset)
        if run is not None:
            outcomes[config] = Outcome(run, cached=True)
    return [outcomes[config] for config in configs if config in outcomes]


def estimate_seconds(spec: StudySpec, dataset: Dataset, service: RunsService) -> tuple[float, int]:
    """(seconds to train the missing cells, number of missing cells), from the cost model (core/costs.py) with
    this store's timings."""
    measured = service.seconds_per_image_epoch()
    configs = spec.configs(dataset.pool_size)
    stored = service.stored_rows(configs, dataset)  # one listing, whatever the study's size
    missing = [config for config in configs if config not in stored]
    return sum(costs.estimate(config, dataset, measured).seconds for config in missing), len(missing)




@dataclass(frozen=True)
class StudySize:
    """What a study's missing cells would ask of a shared server, against its limits (core/server_settings.py)."""
    cells: int
    seconds: float
    longest_cell_seconds: float
    ask_minutes: float
    max_cells: int
    max_minutes: float

    @property
    def refusal(self) -> str | None:
        """Why the app will not queue it (None: it may)."""
        if self.cells <= self.max_cells and self.seconds <= self.max_minutes * 60:
            return None
        return (f"This study has {self.cells:,} cells to train, about {_minutes(self.seconds)} of the workers' time: "
                f"more than this server takes from one study ({self.max_cells:,} cells and "
                f"{_minutes(self.max_minutes * 60)}; STUDY_MAX_CELLS and STUDY_MAX_MINUTES). Fewer seeds, sample "
                f"sizes, networks or epochs would fit; `python -m core study` on your own machine has no limit.")

    @property
    def needs_asking(self) -> bool:
        return self.refusal is None and self.seconds > self.ask_minutes * 60

    def share(self) -> str:
        """What it does to the others waiting, in one sentence."""
        return (f"It takes turns with everybody else's requests: while it runs, another session's training waits "
                f"for at most the cell that is running (up to about {_minutes(self.longest_cell_seconds)}) before "
                f"its own turn.")


def study_size(spec: StudySpec, dataset: Dataset, service: RunsService, ask_minutes: float, max_cells: int,
               max_minutes: float) -> StudySize:
    """The missing cells of `spec`, their estimated seconds (core/costs.py with this store's timings) and the
    longest one's, against a server's limits."""
    measured = service.seconds_per_image_epoch()
    configs = spec.configs(dataset.pool_size)
    stored = service.stored_rows(configs, dataset)
    seconds = [costs.estimate(config, dataset, measured).seconds for config in configs if config not in stored]
    return StudySize(len(seconds), sum(seconds), max(seconds, default=0.0), ask_minutes, max_cells, max_minutes)


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:,.0f} s"
    minutes = seconds / 60
    return f"{minutes:,.0f} min" if minutes < 180 else f"{minutes / 60:,.1f} hours"
