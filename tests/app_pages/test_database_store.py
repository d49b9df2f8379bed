"""The app on a PostgreSQL store chosen by its secrets (`[connections.runs] url`): a reboot with an empty local
folder reopens a shared comparison without training; a database that cannot be reached is a message."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_pages.conftest import APP, TIMEOUT, texts
from tests.app_pages.test_links import SMALL, train_small
from tests.postgres_server import PASSWORD, forget_databases, free_port


def open_app(url: str, params: dict | None = None) -> AppTest:
    """A new session of an app whose secrets name the database `url`."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.secrets["connections"] = {"runs": {"url": url}}
    app.query_params.update(params or {})
    return app.run()


@pytest.mark.slow
def test_a_rebooted_app_reopens_a_shared_comparison_from_the_database_without_training(
        postgres_url, fake_trainer, tmp_path, monkeypatch):
    first = train_small(open_app(postgres_url))
    assert not first.exception and len(fake_trainer.calls) == 2
    # The reboot: a new process (fresh caches and pools) on a machine whose local folder is empty.
    monkeypatch.setenv("RUN_STORE_DIR", str(tmp_path / "empty-after-reboot"))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    forget_databases()
    app = open_app(postgres_url, SMALL)
    assert not app.exception
    assert sum("from cache" in text for text in texts(app.caption)) == 2
    assert len(fake_trainer.calls) == 2  # nothing trained again
    app.switch_page("app_pages/runs.py").run()
    assert not app.exception and any("PostgreSQL database" in text for text in texts(app.caption))
    assert not any(PASSWORD in text for text in texts(app.caption))


def test_a_database_that_cannot_be_reached_is_a_message_not_a_traceback(fake_trainer):
    app = open_app(f"postgresql+psycopg://runs:{PASSWORD}@127.0.0.1:{free_port()}/runs")
    assert not app.exception  # Compare paints (with the presets); the Runs page needs the store and says why
    app.switch_page("app_pages/runs.py").run()
    assert not app.exception
    assert any("cannot be used right now" in text for text in texts(app.error))
    assert not any(PASSWORD in text for text in texts(app.error))


def test_run_store_url_in_the_environment_wins_over_the_secrets(postgres_url, fake_trainer, monkeypatch):
    monkeypatch.setenv("RUN_STORE_URL", postgres_url)
    app = open_app(f"postgresql+psycopg://runs:x@127.0.0.1:{free_port()}/runs")  # secrets name a dead one
    assert not app.exception and not app.error
    app.switch_page("app_pages/runs.py").run()
    assert not app.exception and any("PostgreSQL database" in text for text in texts(app.caption))


def test_a_database_going_away_mid_session_is_a_message_and_the_page_comes_back(fake_trainer):
    from tests.postgres_server import ThrowawayPostgres

    why_not = ThrowawayPostgres.why_not()
    if why_not:
        pytest.skip(f"cannot restart a PostgreSQL server here: {why_not}")
    server = ThrowawayPostgres.start()
    try:
        app = open_app(server.url)
        app.switch_page("app_pages/runs.py").run()
        assert not app.exception and not app.error
        server.stop()
        app.run()
        assert not app.exception
        assert any("cannot be used right now" in text for text in texts(app.error))
        assert not any(PASSWORD in text for text in texts(app.error))
        server.start_again()
        app.run()
        assert not app.exception and not app.error
    finally:
        forget_databases()
        server.remove()
