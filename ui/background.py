"""Head starts for model work: the worker processes started as a page that needs them begins, and, after a page has
painted, on one thread per server, the training its Train button would start prepared (TensorFlow imported, models
built and traced: core.training.prepare_training), so that the click starts at the first epoch.

The worker never calls Streamlit. Requests are remembered per server, so a rerun asks nothing twice; when
several wait, only the newest is prepared (the settings a user has now are the ones that matter).
"""

from __future__ import annotations

import logging
import threading
import time

from cachetools import LRUCache

from core.architectures import ArchitectureSpec
from core.config import configs_for
from core.data import Dataset
from core.runs import StoreError
from ui import cache

log = logging.getLogger(__name__)

_lock = threading.Condition()
MAX_REMEMBERED = 256  # a long-lived server meets endless settings: remember the newest only
_asked = LRUCache(maxsize=MAX_REMEMBERED)  # run ids of recent requests, so that a rerun asks nothing twice
_waiting: list = []       # requests not yet taken by the worker, oldest first
_busy = False
_worker: threading.Thread | None = None
# Let the page that asked reach the browser first: TensorFlow's import (in a worker process, or here with
# TRAIN_WORKERS=0) and the model building start a moment after its script has ended.
START_DELAY_SECONDS = 0.3


def prepare_after_paint(service, configs, dataset) -> bool:
    """Ask the worker to start the executor and prepare `configs`' training through `service` (a RunsService);
    False if these runs were asked for before."""
    global _worker
    key = tuple(service.run_id(config, dataset) for config in configs)
    with _lock:
        if key in _asked:
            _asked[key] = None  # used: the newest again
            return False
        _asked[key] = None
        _waiting.append((key, service, configs, dataset))
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="warm-up", daemon=True)
            _worker.start()
        _lock.notify_all()
    return True


# What the first finished comparison needs in the server and the page does not (sklearn.metrics for the
# confusion matrices and per-class scores: ~1.5 s here): imported while the user reads or waits for a training.
SERVER_WARM_IMPORTS = ("sklearn.metrics",)


def _warm_server_imports() -> None:
    import importlib

    for name in SERVER_WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except Exception:  # a head start only: the page imports it itself and reports a real problem
            log.exception("importing %s ahead of time failed", name)


def _work() -> None:
    global _busy
    first = True
    while True:
        with _lock:
            _lock.wait_for(lambda: _waiting)
            key, service, configs, dataset = _waiting.pop()  # the newest
            for skipped, *_ in _waiting:  # older settings: forget them, so they may be asked again
                _asked.pop(skipped, None)
            _waiting.clear()
            _busy = True
        if first:
            time.sleep(START_DELAY_SECONDS)
            first = False
        try:
            handles = service.prepare(configs, dataset)
            _warm_server_imports()  # while the models are prepared where they will train
            prepared = [handle.result() for handle in handles]
            log.info("prepared %d trainings ahead of a click", sum(prepared))
        except Exception:  # a warm-up is only ever a head start: training will report any real problem
            log.exception("preparing %s failed", key)
            with _lock:
                _asked.pop(key, None)
        finally:
            with _lock:
                _busy = False
                _lock.notify_all()


def start_workers_now() -> None:
    """Start the worker processes now (idempotent), as the first script run of a page whose buttons need model work
    begins: TensorFlow's import (5-9 s here) then overlaps the page's own run and paint instead of following it. A
    spawned worker does not take the server's interpreter lock, so the page does not wait for it. Nothing when the
    app trains in its own process. A store that cannot be opened is left for the page to report."""
    try:
        cache.service(cache.store_location()).executor.start()
    except StoreError:
        return


def prepare_in_background(dataset: Dataset, architectures: list[ArchitectureSpec], sample_size, recipe: str,
                          precision: str, settings: dict) -> None:
    """Call last on a page: once it has painted, prepare the training its Train button would start (TensorFlow
    imported, models built and traced), so the click starts at the first epoch. Nothing for settings that
    cannot train or whose runs are all stored (opening those needs no TensorFlow), nor for settings that only came
    from a link the user has not touched yet (a link's settings are not the user's request), nor for runs over the
    memory budget (core/costs.py)."""
    from ui import links

    try:
        configs = configs_for(dataset, architectures, sample_size, recipe=recipe, precision=precision, **settings)
        if links.untouched_link_settings(configs):
            return
        prepare_after_paint(cache.service(cache.store_location()), configs, dataset)
    except (ValueError, StoreError):  # Train will say what is wrong
        return
