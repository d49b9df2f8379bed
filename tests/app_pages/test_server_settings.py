"""Server settings and the host on a plain first visit (core/server_settings.py, ui/server_notice.py): a bad value is
one clear message and the page works; a server too small to train says so once and still opens what is stored."""

from __future__ import annotations

import pytest

from core import host
from core.runs import workers
from tests.app_pages.conftest import open_page, texts
from tests.app_pages.test_first_visit import store_defaults

SMALL = host.MemoryLimit(690, "cgroup v2 memory.max of /")
NOTICE = "This server has 690 MB; training needs about 800 MB."


@pytest.fixture
def no_worker_processes(monkeypatch) -> list:
    """The settings under test fall back to the worker pool: its processes (TensorFlow in each) are not started."""
    started = []
    monkeypatch.setattr(workers.WorkerPool, "start", lambda pool: started.append(pool))
    yield started
    for pool in started:  # jobs queued on a pool without processes (a warm-up) end Cancelled, as on a real shutdown
        pool.shutdown()


@pytest.mark.parametrize("name, text", [("TRAIN_WORKERS", "-1"), ("TRAIN_WORKERS", "abc"),
                                        ("MEMORY_BUDGET_MB", "0"), ("MEMORY_BUDGET_MB", "1"),
                                        ("MEMORY_BUDGET_MB", "abc"), ("MEMORY_BUDGET_MB", "1e309"),
                                        ("WORKER_RECYCLE_MB", "0"), ("RUN_STORE_MAX_MB", "abc")])
def test_a_bad_setting_is_one_message_on_a_plain_first_visit_not_the_error_box(monkeypatch, no_worker_processes,
                                                                                name, text):
    """Issue 36 Degraded 2: these showed Streamlit's error box on a plain first visit (the early worker start was
    not guarded); the clear message came only after Train."""
    monkeypatch.setenv(name, text)
    app = open_page()
    assert not app.exception
    said = [message for message in texts(app.warning) if name in message]
    assert len(said) == 1 and "Using the default" in said[0]
    assert not texts(app.error)
    assert app.button(key="train").label == "Train"  # the page drew in full


def test_a_budget_below_what_a_worker_needs_turns_training_off_with_one_notice(monkeypatch, fake_trainer):
    """Issue 36 Degraded 2: MEMORY_BUDGET_MB=300 started an 800 MB worker, then refused every run."""
    monkeypatch.setenv("MEMORY_BUDGET_MB", "300")
    app = open_page()
    assert not app.exception
    notices = [message for message in texts(app.warning) if "training needs about" in message]
    assert len(notices) == 1 and notices[0].startswith("The memory budget (MEMORY_BUDGET_MB) is 300 MB; training "
                                                       "needs about")
    app.button(key="train").click().run()
    assert not app.exception and fake_trainer.calls == []


@pytest.mark.parametrize("page", [None, "app_pages/study.py", "app_pages/try_it.py"])
def test_a_server_below_the_training_floor_says_so_once_on_every_page_that_would_train(monkeypatch, page):
    monkeypatch.setattr(host, "memory_limit", lambda root="/": SMALL)
    app = open_page(page)
    assert not app.exception
    assert sum(message.startswith(NOTICE) for message in texts(app.warning)) == 1


def test_stored_runs_still_open_on_a_server_too_small_to_train_and_train_is_refused_plainly(monkeypatch, fake_trainer,
                                                                                             digits):
    store_defaults(digits, fake_trainer)
    monkeypatch.setattr(host, "memory_limit", lambda root="/": SMALL)
    app = open_page()
    assert not app.exception
    assert sum("from cache" in text for text in texts(app.caption)) == 2  # the stored comparison, without training
    assert sum(message.startswith(NOTICE) for message in texts(app.warning)) == 1
    app.number_input(key="sample_size").set_value(300).run()
    app.button(key="train").click().run()
    assert not app.exception
    assert len(fake_trainer.calls) == 2  # only the set-up trained
    assert any(NOTICE in message for message in texts(app.error))


def test_the_runs_page_says_which_budget_is_in_force_and_where_it_came_from(monkeypatch):
    monkeypatch.setattr(host, "memory_limit", lambda root="/": host.MemoryLimit(1000, "cgroup v1 memory.limit_in_bytes "
                                                                                     "of /app"))
    app = open_page("app_pages/runs.py")
    assert not app.exception
    said = " ".join(texts(app.markdown))
    assert "MEMORY_BUDGET_MB:" in said and "from the container's 1,000 MB limit (cgroup v1 memory.limit_in_bytes " \
                                           "of /app)" in said
