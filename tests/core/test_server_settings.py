"""The server's settings checked at once (core/server_settings.py): a bad value is one sentence and the default,
too many workers are bounded, a budget or a container too small to train turns training off, and the defaults
follow the host."""

from __future__ import annotations

import pytest

from core import server_settings
from core.costs import WORKER_BASE_MB
from core.host import Cpus, MemoryLimit

NO_LIMIT = MemoryLimit(None, "no cgroup limit")
TWO_CPUS = Cpus(2.0, "the affinity mask")


def check(environ: dict, memory=NO_LIMIT, cpus=TWO_CPUS):
    return server_settings.check(environ, memory, cpus)


@pytest.mark.parametrize("name, text, said", [
    ("TRAIN_WORKERS", "-1", "TRAIN_WORKERS must be a whole number at least 0; got -1."),
    ("TRAIN_WORKERS", "abc", "TRAIN_WORKERS must be a whole number, not 'abc'."),
    ("MEMORY_BUDGET_MB", "0", "MEMORY_BUDGET_MB must be a whole number of megabytes at least 300; got 0."),
    ("MEMORY_BUDGET_MB", "1", "MEMORY_BUDGET_MB must be a whole number of megabytes at least 300; got 1."),
    ("MEMORY_BUDGET_MB", "abc", "MEMORY_BUDGET_MB must be a whole number of megabytes, not 'abc'."),
    ("MEMORY_BUDGET_MB", "1e309", "MEMORY_BUDGET_MB must be a whole number of megabytes, not '1e309'."),
    ("WORKER_RECYCLE_MB", "0", "WORKER_RECYCLE_MB must be a whole number of megabytes at least 100; got 0."),
    ("RUN_STORE_MAX_MB", "inf", "RUN_STORE_MAX_MB must be a finite number of megabytes above 0; got inf.")])
def test_a_bad_setting_is_one_sentence_and_its_default_is_used(name, text, said):
    checked = check({name: text})
    assert len(checked.problems) == 1 and checked.problems[0].startswith(said)
    assert "Using the default" in checked.problems[0]
    assert checked.training
    assert (checked.workers, checked.budget_mb, checked.recycle_mb, checked.store_max_mb) == (1, 2400, 1800, 2048)


def test_good_values_are_used_and_said_to_be_set():
    checked = check({"TRAIN_WORKERS": "2", "MEMORY_BUDGET_MB": "4000", "WORKER_RECYCLE_MB": "900",
                     "RUN_STORE_MAX_MB": "2.5", "STUDY_ASK_MINUTES": "3", "STUDY_MAX_CELLS": "40",
                     "STUDY_MAX_MINUTES": "60"})
    assert (checked.workers, checked.budget_mb, checked.recycle_mb, checked.store_max_mb) == (2, 4000, 900, 2.5)
    assert (checked.study_ask_minutes, checked.study_max_cells, checked.study_max_minutes) == (3, 40, 60)
    assert checked.problems == () and set(checked.sources.values()) == {"set"}


def test_settings_left_out_are_said_to_be_defaults():
    checked = check({"TRAIN_WORKERS": "1"})
    assert checked.sources["TRAIN_WORKERS"] == "set"
    assert {name for name, source in checked.sources.items() if source == "default"} >= {
        "STUDY_ASK_MINUTES", "STUDY_MAX_CELLS", "STUDY_MAX_MINUTES", "WORKER_RECYCLE_MB"}


def test_a_thousand_workers_are_bounded_by_the_cpus_in_one_line():
    """Issue 36 Broke 4: TRAIN_WORKERS=1000 started 1000 workers, each importing TensorFlow."""
    checked = check({"TRAIN_WORKERS": "1000", "MEMORY_BUDGET_MB": "100000"})
    assert checked.workers == 2
    assert checked.problems == ("TRAIN_WORKERS=1000 asks for more workers than this server can run "
                                "(2 CPUs (the affinity mask)): using 2.",)


def test_workers_are_bounded_by_what_the_budget_holds_beside_the_server():
    checked = check({"TRAIN_WORKERS": "2", "MEMORY_BUDGET_MB": "1500"})
    assert checked.workers == 1 and "memory budget holds 1" in checked.problems[0]


def test_a_budget_below_what_a_worker_needs_turns_training_off_instead_of_refusing_every_run():
    """Issue 36 Degraded 2: MEMORY_BUDGET_MB=300 (the accepted minimum) started an 800 MB worker, then refused
    every run."""
    checked = check({"MEMORY_BUDGET_MB": "300"})
    assert not checked.training and checked.problems == ()
    assert checked.training_off.startswith("The memory budget (MEMORY_BUDGET_MB) is 300 MB; training needs about "
                                           f"{WORKER_BASE_MB + server_settings.SERVER_MB:,.0f} MB")


def test_a_container_below_the_training_floor_says_so_plainly():
    checked = check({}, memory=MemoryLimit(690, "cgroup v2 memory.max of /"))
    assert not checked.training
    assert checked.training_off.startswith(
        f"This server has 690 MB; training needs about {server_settings.TRAINING_FLOOR_MB:,} MB.")


def test_the_budget_follows_the_containers_limit_and_is_capped_where_there_is_none():
    assert check({}).budget_mb == server_settings.DEFAULT_BUDGET_MB
    small, large = (check({}, memory=MemoryLimit(megabytes, "cgroup v1 memory.limit_in_bytes of /app"))
                    for megabytes in (1000, 2700))
    assert small.training and large.training
    assert large.budget_mb - small.budget_mb == 1700  # one worker each: the same headroom and library pages
    assert small.budget_mb >= server_settings.SERVER_MB + WORKER_BASE_MB  # the defaults' worker fits
    assert "from the container's 1,000 MB limit (cgroup v1 memory.limit_in_bytes of /app)" in small.sources[
        "MEMORY_BUDGET_MB"]


def test_an_explicit_budget_is_trusted_in_a_small_container():
    checked = check({"MEMORY_BUDGET_MB": "1200"}, memory=MemoryLimit(690, "cgroup v2 memory.max of /"))
    assert checked.training and checked.budget_mb == 1200


@pytest.mark.parametrize("cpus, workers, threads", [(Cpus(1.0, "q"), 1, (1, 1)), (Cpus(0.5, "q"), 1, (1, 1)),
                                                    (Cpus(4.0, "q"), 2, (2, 2)), (Cpus(2.0, "a"), 1, (2, 2)),
                                                    (Cpus(1.5, "q"), 1, (1, 1))])
def test_workers_and_threads_follow_the_cpus(cpus, workers, threads):
    checked = check({"MEMORY_BUDGET_MB": "100000"}, cpus=cpus)
    assert (checked.workers, checked.threads) == (workers, threads)


def test_every_line_of_the_summary_names_its_source():
    lines = check({}, memory=MemoryLimit(1000, "cgroup v1 memory.limit_in_bytes of /app")).lines()
    assert lines[0].startswith("Memory: 1,000 MB (cgroup v1 memory.limit_in_bytes of /app); CPUs: 2 CPUs")
    assert "from the container's 1,000 MB limit" in lines[1] and lines[-1] == "Training: on."


MEASURED_SERVER_MB = 265  # the web server's resident memory with the worker pool (issue 35; 231-259 MB here)


def test_at_the_training_floor_the_budget_admits_the_defaults_conv_run_beside_the_server(digits):
    """The floor and the budget agree: a server that says it can train does not refuse the student's experiment."""
    from core import costs
    from core.architectures import PRESETS
    from core.config import TrainConfig

    floor = check({}, memory=MemoryLimit(server_settings.TRAINING_FLOOR_MB, "cgroup v2 memory.max of /"))
    below = check({}, memory=MemoryLimit(server_settings.TRAINING_FLOOR_MB - 1, "cgroup v2 memory.max of /"))
    assert floor.training and not below.training
    assert floor.budget_mb - MEASURED_SERVER_MB >= costs.peak_mb(TrainConfig.for_network(PRESETS["conv"]), digits)
