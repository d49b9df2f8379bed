"""`digit_store(run_store)` picks the class sets that go with the run store: its folder, or its database."""

from __future__ import annotations

import numpy as np

from core.class_digits import digit_store
from core.class_digits.postgres import PostgresDigits
from core.class_digits.storage import FOLDER_NAME, FolderDigits
from core.runs import RunStore


def test_a_folder_store_keeps_the_sets_beside_its_runs(tmp_path):
    store = RunStore(tmp_path / "store")
    digits = digit_store(store)
    assert isinstance(digits, FolderDigits) and digits.root == tmp_path / "store" / FOLDER_NAME
    digits.add("7B", 1, np.zeros((28, 28), np.uint8))
    assert [path.name for path in (tmp_path / "store" / FOLDER_NAME / "7B").iterdir() if path.suffix == ".digit"] \
        == ["00000001-1.digit"]
    assert store.list_runs() == []  # the runs' listing does not see them


def test_a_database_store_keeps_the_sets_in_its_database(postgres_url, tmp_path):
    digits = digit_store(RunStore(postgres_url))
    assert isinstance(digits, PostgresDigits) and "PostgreSQL" in digits.where()
    digits.add("7B", 1, np.zeros((28, 28), np.uint8))
    again = digit_store(RunStore(postgres_url))  # another server on the same database: the same set
    assert again.sets() == {"7B": 1}
    assert not (tmp_path / "store" / FOLDER_NAME).exists()
