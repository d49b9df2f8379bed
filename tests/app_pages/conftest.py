"""AppTest fixtures: fresh Streamlit caches, a fake trainer patched at the core boundary."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.runs import jobs as jobs_module
from tests.fakes import FakeTrainer, forget_background, wait_until_background_idle

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TIMEOUT = 60


@pytest.fixture(autouse=True)
def train_in_the_app_process(monkeypatch):
    """The fake trainer is patched in this process: the app must not hand training to worker processes."""
    monkeypatch.setenv("TRAIN_WORKERS", "0")


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def warm_ups(monkeypatch) -> list:
    """The background preparation of a training, recorded instead of tracing real models."""

    asked = []
    monkeypatch.setattr(jobs_module, "prepare_training", lambda config, dataset: asked.append(config) or True)
    forget_background()
    yield asked
    idle = wait_until_background_idle(timeout=20)
    forget_background()
    assert idle, "the background preparation did not finish within 20 s of the test's end"


@pytest.fixture
def fake_trainer(monkeypatch) -> FakeTrainer:
    trainer = FakeTrainer()
    monkeypatch.setattr(jobs_module, "train", trainer)
    return trainer


def open_page(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    if page:
        app.switch_page(page).run()
    return app


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def usable_controls(app: AppTest, keys) -> dict[str, str]:
    """Each keyed control's label, checking that it is there (KeyError otherwise), labelled and not disabled."""
    controls = {key: app.get_by_key(key) for key in keys}
    assert [key for key, control in controls.items() if control.disabled or not control.label] == []
    return {key: control.label for key, control in controls.items()}
