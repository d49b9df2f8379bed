"""Work for a page after it has painted, on one worker thread per server: preparing the training that the
page's Train button would start, so that the click starts at the first epoch (core.training.prepare_training).

The worker never calls Streamlit. Requests are remembered per server, so a rerun asks nothing twice; when
several wait, only the newest is prepared (the settings a user has now are the ones that matter).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import OrderedDict

log = logging.getLogger(__name__)

_lock = threading.Condition()
_asked: OrderedDict = OrderedDict()  # run ids of recent requests, so that a rerun asks nothing twice
MAX_REMEMBERED = 256  # a long-lived server meets endless settings: remember the newest only
_waiting: list = []       # requests not yet taken by the worker, oldest first
_busy = False
_worker: threading.Thread | None = None
# TensorFlow's import holds Python's lock for seconds at a time (loading its libraries); started as soon as the
# script ends, it starved the server thread still sending the page, and first paint took up to 3 s longer. A
# worker process imports it without the server's lock: only its start waits a little, for the page's bytes.
IMPORT_DELAY_SECONDS = 1.5
WORKER_START_DELAY_SECONDS = 0.3


def prepare_after_paint(service, configs, dataset) -> bool:
    """Ask the worker to prepare `configs`' training through `service` (a RunsService); False if these runs
    were asked for before."""
    global _worker
    key = tuple(service.run_id(config, dataset) for config in configs)
    with _lock:
        if key in _asked:
            _asked.move_to_end(key)
            return False
        _asked[key] = None
        while len(_asked) > MAX_REMEMBERED:
            _asked.popitem(last=False)
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
        if first:  # let the page that asked reach the browser first
            in_server = service.executor.name == "in-process" and "tensorflow" not in sys.modules
            time.sleep(IMPORT_DELAY_SECONDS if in_server else WORKER_START_DELAY_SECONDS)
            first = False
        try:
            prepared = service.prepare(configs, dataset)
            log.info("prepared %d of %d trainings ahead of a click", len(prepared), len(configs))
            if service.executor.queued:  # the workers prepare; the server is free meanwhile
                _warm_server_imports()
        except Exception:  # a warm-up is only ever a head start: training will report any real problem
            log.exception("preparing %s failed", key)
            with _lock:
                _asked.pop(key, None)
        finally:
            with _lock:
                _busy = False
                _lock.notify_all()


def wait_until_idle(timeout: float = 60) -> bool:
    """For tests and benchmarks: True once nothing is waiting or being prepared."""
    with _lock:
        return _lock.wait_for(lambda: not _waiting and not _busy, timeout)


def forget() -> None:
    """For tests: forget what was asked (the worker stays)."""
    with _lock:
        _asked.clear()
        _waiting.clear()
