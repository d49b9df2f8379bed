"""Backends for the contract suite: each kind of store backend, made empty, with a way to damage a stored file
behind the backend's back (as a disk error or a hand edit would). A new backend is one more entry."""

from __future__ import annotations

import pytest

from core.runs.backend import FolderBackend


def folder_backend(request):
    backend = FolderBackend(request.getfixturevalue("tmp_path") / "folder-store")

    def damage(run_id: str, name: str, data: bytes) -> None:
        (backend.folder(run_id) / name).write_bytes(data)

    return backend, damage


def postgres_backend(request):
    """A new database on the test server; damage is an UPDATE of `data` alone, as a hand edit (or a bad disk
    under the database) would leave the stored size and checksum columns as they were."""
    import sqlalchemy as sa

    from core.runs import database as database_module, postgres

    url = request.getfixturevalue("postgres_url")
    db = database_module.database(url)
    backend = postgres.PostgresBackend(db, request.getfixturevalue("tmp_path") / "cache", 10**9)

    def damage(run_id: str, name: str, data: bytes) -> None:
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE run_files SET data = :data WHERE run_id = :run_id AND name = :name"),
                               {"data": data, "run_id": run_id, "name": name})

    return backend, damage


BACKENDS = {"folder": folder_backend, "postgresql": postgres_backend}


@pytest.fixture(params=list(BACKENDS))
def backend_and_damage(request):
    return BACKENDS[request.param](request)


@pytest.fixture
def backend(backend_and_damage):
    return backend_and_damage[0]
