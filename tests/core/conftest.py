"""Core-test fixtures: the fake trainer patched where the in-process executor trains."""

from __future__ import annotations

import pytest

from core.runs import jobs as jobs_module
from tests.fakes import FakeTrainer


@pytest.fixture
def fake_trainer(monkeypatch) -> FakeTrainer:
    trainer = FakeTrainer()
    monkeypatch.setattr(jobs_module, "train", trainer)
    return trainer
