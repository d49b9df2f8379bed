"""Class sets in the run store's PostgreSQL database: a table of their own, through the same connection pool as the
runs (`core.runs.database.database(url)`, imported here and nowhere else in this package).

    class_digits   id (bigserial, never reused), class_code, label (0-9), pixels (784 bytes), added_at

The table and its index are created on first use when missing (one creator at a time: an advisory lock, as the
run store creates its schema). An add takes a transaction-scoped advisory lock on its set, counts, checks the cap
and inserts: adds to one set are one at a time, to different sets at once; a writer killed half-way leaves
nothing (its transaction is rolled back when its connection drops).
"""

from __future__ import annotations

import hashlib
import threading
import weakref

import numpy as np
import sqlalchemy as sa

from core.class_digits.limits import DIGIT_SHAPE, MAX_SET_SIZE, NUM_LABELS, check_class_code, check_room
from core.class_digits.storage import ClassSet, DigitStore, make_set, set_version
from core.runs.database import database

TABLE_LOCK, SET_LOCK = 0x434C4431, 0x434C4432  # advisory lock namespaces: creating the table, writing one set
TABLE_SQL = [
    "CREATE TABLE IF NOT EXISTS class_digits (id bigserial PRIMARY KEY, class_code text NOT NULL, "
    "label smallint NOT NULL CHECK (label BETWEEN 0 AND 9), "
    f"pixels bytea NOT NULL CHECK (octet_length(pixels) = {DIGIT_SHAPE[0] * DIGIT_SHAPE[1]}), "
    "added_at timestamptz NOT NULL DEFAULT now())",
    "CREATE INDEX IF NOT EXISTS class_digits_by_set ON class_digits (class_code, id)",
]
_READY: weakref.WeakSet = weakref.WeakSet()  # the Database objects whose table this process has made sure of
_READY_LOCK = threading.Lock()


def _set_key(code: str) -> int:
    """A set's code as the second int4 key of an advisory lock (a collision only makes two sets wait)."""
    return int.from_bytes(hashlib.sha256(code.encode()).digest()[:4], "big", signed=True)


class PostgresDigits(DigitStore):
    """Class sets as rows of `class_digits` in the database at `url` (StoreError when it cannot be used)."""

    def __init__(self, url: str):
        self.db = database(url)
        self._ensure_table()

    def where(self) -> str:
        return f"in the PostgreSQL database {self.db.shown}"

    def _ensure_table(self) -> None:
        with _READY_LOCK:
            if self.db in _READY:
                return
            with self.db.begin() as connection:
                if not self._exists(connection):
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, 0)"), {"space": TABLE_LOCK})
                    if not self._exists(connection):
                        for statement in TABLE_SQL:
                            connection.execute(sa.text(statement))
            _READY.add(self.db)

    @staticmethod
    def _exists(connection) -> bool:
        """Read from pg_class in this statement's snapshot (sees a creator's commit after waiting on its lock)."""
        return bool(connection.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relname = 'class_digits' AND n.nspname = current_schema())")).scalar())

    def add(self, code: str, label: int, pixels: np.ndarray, cap: int = MAX_SET_SIZE) -> int:
        return self.add_many(code, [label], [pixels], cap)[0]

    def add_many(self, code: str, labels, images, cap: int = MAX_SET_SIZE) -> list[int]:
        code, labels, images = self._checked(code, labels, images)
        with self.db.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                               {"space": SET_LOCK, "key": _set_key(code)})
            count = connection.execute(sa.text("SELECT count(*) FROM class_digits WHERE class_code = :code"),
                                       {"code": code}).scalar()
            check_room(int(count), len(images), cap)
            ids = []
            for label, image in zip(labels, images):
                ids.append(int(connection.execute(sa.text(
                    "INSERT INTO class_digits (class_code, label, pixels) VALUES (:code, :label, :pixels) "
                    "RETURNING id"), {"code": code, "label": label, "pixels": image.tobytes()}).scalar()))
        return ids

    def read(self, code: str) -> ClassSet:
        code = check_class_code(code)
        with self.db.begin() as connection:
            rows = connection.execute(sa.text("SELECT id, label, pixels, added_at FROM class_digits "
                                              "WHERE class_code = :code ORDER BY id"), {"code": code}).all()
        return make_set(code, [(int(digit_id), int(label), bytes(pixels), added_at.isoformat(timespec="seconds"))
                               for digit_id, label, pixels, added_at in rows])

    def version(self, code: str) -> str:
        with self.db.begin() as connection:
            count, last = connection.execute(sa.text(
                "SELECT count(*), coalesce(max(id), 0) FROM class_digits WHERE class_code = :code"),
                {"code": check_class_code(code)}).one()
        return set_version(int(count), int(last))

    def counts(self, code: str) -> np.ndarray:
        with self.db.begin() as connection:
            rows = connection.execute(sa.text("SELECT label, count(*) FROM class_digits WHERE class_code = :code "
                                              "GROUP BY label"), {"code": check_class_code(code)}).all()
        counts = np.zeros(NUM_LABELS, dtype=np.int64)
        for label, count in rows:
            counts[int(label)] = int(count)
        return counts

    def delete(self, code: str, ids) -> int:
        wanted = [int(digit_id) for digit_id in ids]
        code = check_class_code(code)
        with self.db.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                               {"space": SET_LOCK, "key": _set_key(code)})
            return connection.execute(sa.text("DELETE FROM class_digits WHERE class_code = :code "
                                              "AND id = ANY(:ids)"), {"code": code, "ids": wanted}).rowcount

    def clear(self, code: str) -> int:
        code = check_class_code(code)
        with self.db.begin() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                               {"space": SET_LOCK, "key": _set_key(code)})
            return connection.execute(sa.text("DELETE FROM class_digits WHERE class_code = :code"),
                                      {"code": code}).rowcount

    def sets(self) -> dict[str, int]:
        with self.db.begin() as connection:
            rows = connection.execute(sa.text("SELECT class_code, count(*) FROM class_digits GROUP BY class_code "
                                              "ORDER BY class_code")).all()
        return {code: int(count) for code, count in rows}
