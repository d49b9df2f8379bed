"""The model pool's bookkeeping with warm-ups in other threads (plain objects stand in for models)."""

import threading
import time

from core.model_pool import ModelPool


def test_a_take_waits_for_a_warm_up_of_its_kind_and_gets_its_model():
    pool = ModelPool()
    assert pool.reserve("conv") is True
    assert pool.reserve("conv") is False  # a second warm-up of the same kind does nothing
    taken = []
    taker = threading.Thread(target=lambda: taken.append(pool.take("conv")))
    taker.start()
    time.sleep(0.2)
    assert taker.is_alive() and taken == []  # waiting, not building its own
    pool.give("conv", "warmed model")
    taker.join(5)
    assert taken == ["warmed model"]


def test_a_take_does_not_wait_for_other_kinds_or_for_a_warm_up_that_gave_up():
    pool = ModelPool()
    pool.reserve("conv")
    assert pool.take("flat") is None  # at once
    done = []
    taker = threading.Thread(target=lambda: done.append(pool.take("conv")))
    taker.start()
    pool.release("conv")
    taker.join(5)
    assert done == [None] and pool.reserve("conv") is True  # free to try again


def test_an_idle_model_of_a_kind_means_no_warm_up_is_needed():
    pool = ModelPool()
    pool.give("flat", "idle")
    assert pool.reserve("flat") is False
    assert pool.take("flat") == "idle" and pool.reserve("flat") is True
