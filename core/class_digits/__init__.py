"""A class's own handwriting: digits a class draws, kept like runs, and a verdict on whether conv still beats flat
on them (issue 38).

    limits.py     the class code, a stored digit's form, the limits against floods (per set, per session, blank)
    storage.py    DigitStore: the interface, and the folder backend beside the runs
    postgres.py   the same in the run store's PostgreSQL database (imported only for such a store)
    verdict.py    accuracy with Wilson's interval, conv − flat paired, McNemar, the sentence (numpy and scipy)
    networks.py   which runs by default; their answers on a set (model work: a worker in the app)
    npz.py        a set as x/y .npz, keras.datasets.mnist's layout, read with every check
    cli.py        `python -m core class-digits list|export|import|evaluate`
"""

from __future__ import annotations

from pathlib import Path

from core.class_digits.limits import DEFAULT_CODE, MAX_SET_SIZE, Refused, SetFull, check_class_code
from core.class_digits.storage import FOLDER_NAME, ClassSet, DigitStore, FolderDigits


def digit_store(store) -> DigitStore:
    """The class sets that go with a run store (core.runs.RunStore): a table of its PostgreSQL database, or the
    folder FOLDER_NAME in its folder. StoreError when the database cannot be used."""
    if store.is_database:
        from core.class_digits.postgres import PostgresDigits  # SQLAlchemy: only for a database store

        return PostgresDigits(store.location)
    return FolderDigits(Path(store.root) / FOLDER_NAME)


__all__ = ["DEFAULT_CODE", "MAX_SET_SIZE", "ClassSet", "DigitStore", "Refused", "SetFull", "check_class_code",
           "digit_store"]
