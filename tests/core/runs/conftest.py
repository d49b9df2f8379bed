"""Backends for the contract suite: each kind of store backend, made empty, with a way to damage a stored file
behind the backend's back (as a disk error or a hand edit would). A new backend is one more entry."""

from __future__ import annotations

import pytest

from core.runs.backend import FolderBackend


def folder_backend(tmp_path):
    backend = FolderBackend(tmp_path / "folder-store")

    def damage(run_id: str, name: str, data: bytes) -> None:
        (backend.folder(run_id) / name).write_bytes(data)

    return backend, damage


BACKENDS = {"folder": folder_backend}


@pytest.fixture(params=list(BACKENDS))
def backend_and_damage(request, tmp_path):
    return BACKENDS[request.param](tmp_path)


@pytest.fixture
def backend(backend_and_damage):
    return backend_and_damage[0]
