"""Digit stores for the contract suite: each backend made empty, with a way to make its n-th digit write fail (a
full disk, a dropped connection) half-way through a call. A new backend is one more entry."""

from __future__ import annotations

import pytest

from core.class_digits.storage import FolderDigits


def folder_digits(request):
    root = request.getfixturevalue("tmp_path") / "store" / "class-digits"

    def fail_on_write(monkeypatch, number: int) -> None:
        from core.class_digits import storage

        real, calls = storage.write_atomically, []

        def failing(path, data):
            if path.name.endswith(".digit"):
                calls.append(path)
                if len(calls) == number:
                    raise OSError(28, "No space left on device")
            real(path, data)

        monkeypatch.setattr(storage, "write_atomically", failing)

    return FolderDigits(root), ("folder", str(root)), fail_on_write


def postgres_digits(request):
    from core.class_digits.postgres import PostgresDigits

    url = request.getfixturevalue("postgres_url")

    def fail_on_write(monkeypatch, number: int) -> None:
        import sqlalchemy as sa

        from core.class_digits import postgres

        real, calls = sa.text, []

        def failing(statement: str):
            if statement.startswith("INSERT INTO class_digits"):
                calls.append(statement)
                if len(calls) == number:
                    raise sa.exc.OperationalError(statement, {}, OSError("server closed the connection"))
            return real(statement)

        monkeypatch.setattr(postgres.sa, "text", failing)

    return PostgresDigits(url), ("postgresql", url), fail_on_write


BACKENDS = {"folder": folder_digits, "postgresql": postgres_digits}


@pytest.fixture(params=list(BACKENDS))
def made(request):
    """(the store, (kind, where) to open it again in another process, fail_on_write(monkeypatch, n))."""
    return BACKENDS[request.param](request)


@pytest.fixture
def class_store(made):
    return made[0]
