"""A throwaway PostgreSQL server for tests: initdb in a temporary folder (as the `postgres` user when run as
root: initdb refuses root), a free port on 127.0.0.1, password authentication over TCP, stopped at the end.

    server = ThrowawayPostgres.start()   # None when no server binaries are installed (with the reason)
    server.url                            # postgresql+psycopg://runs:PASSWORD@127.0.0.1:PORT/runs
    server.new_database()                 # the URL of a new empty database on it
    server.stop(); server.start_again()   # a restart, as a database going away mid-session
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

USER, PASSWORD, DATABASE = "runs", "s3cret-test-pw", "runs"


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or one on PATH, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _admin(url: str, statement: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def new_database(server_url: str) -> str:
    """Create an empty database on the server of `server_url` (its user needs CREATEDB); returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    _admin(server_url, f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(server_url: str, url: str) -> None:
    _admin(server_url, f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


class ExistingPostgres:
    """A server someone else runs (RUN_STORE_TEST_URL): databases made and dropped on it, never restarted."""

    def __init__(self, url: str):
        self.url = url

    def new_database(self) -> str:
        return new_database(self.url)

    def drop_database(self, url: str) -> None:
        drop_database(self.url, url)


class ThrowawayPostgres:
    def __init__(self, binaries: Path, folder: Path, port: int):
        self.binaries, self.folder, self.port = binaries, folder, port
        self.url = f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{port}/{DATABASE}"

    @classmethod
    def why_not(cls) -> str | None:
        """Why no server can be started here, or None."""
        if server_binaries() is None:
            return "no PostgreSQL server binaries (apt-get install postgresql) and RUN_STORE_TEST_URL is not set"
        if os.geteuid() == 0 and shutil.which("runuser") is None:
            return "running as root without runuser, and initdb refuses root"
        return None

    @classmethod
    def start(cls) -> ThrowawayPostgres:
        binaries = server_binaries()
        folder = Path(tempfile.mkdtemp(prefix="pg-test-"))
        server = cls(binaries, folder, free_port())
        (folder / "pw").write_text(PASSWORD)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres")
            shutil.chown(folder / "pw", "postgres")
        server._as_owner("initdb", "-D", str(folder / "data"), "-U", USER, "--auth-local=trust",
                         "--auth-host=scram-sha-256", f"--pwfile={folder / 'pw'}", "-E", "UTF8", "--no-sync")
        server.start_again()
        server._as_owner("createdb", "-h", str(folder), "-p", str(server.port), "-U", USER, DATABASE)
        return server

    def start_again(self) -> None:
        self._as_owner("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w", "-o",
                       f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                       f"-c max_connections=200", "start")

    def stop(self) -> None:
        self._as_owner("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def new_database(self) -> str:
        """The URL of a new, empty database on this server."""
        return new_database(self.url)

    def drop_database(self, url: str) -> None:
        drop_database(self.url, url)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _as_owner(self, program: str, *args: str) -> None:
        command = [str(self.binaries / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.folder)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed: {done.stderr.strip() or done.stdout.strip()}")


def forget_databases() -> None:
    """Close every connection pool this process opened (core/runs/database.py keeps one per URL): as a new process
    or a rebooted app would start."""
    from core.runs import database

    with database._DATABASES_LOCK:
        for found in database._DATABASES.values():
            found.dispose()
        database._DATABASES.clear()
