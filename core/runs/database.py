"""The PostgreSQL database behind a run store (`RUN_STORE_URL`, or the app's `[connections.runs] url` secret):
its URL checked and masked, one connection pool per URL and process, the schema created once, and every failure
said as a StoreError that names the database (password masked) and the reason.

    run_store_schema   one row per schema version applied (created on first use; a newer one is refused)
    run_files          run_id, name, data (bytea), size, sha256, written_at: one row per file of a run
    run_index          the listing and LRU order (the same columns as the folder store's SQLite index)
    run_networks       users' saved networks: name, spec_json, saved_at

What is stored in these tables, and how, is core/runs/postgres.py's. SQLAlchemy and psycopg are imported only
here and there, so only a PostgreSQL store imports them.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.runs.errors import StoreError, StoreSettingError, StoreUnavailable
from core.runs.index import INDEX_COLUMNS

SCHEMA_VERSION = 1
SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
# Advisory lock namespaces (the first of PostgreSQL's two int4 keys): a run being trained, a run being written,
# the schema being created.
TRAINING, WRITING, SCHEMA = 0x52554E31, 0x52554E32, 0x52554E33
# A refusal that waiting will not cure: the URL (a setting) is wrong.
REFUSALS = ("password authentication failed", "does not exist", "no pg_hba.conf entry", "no password supplied")

_SQL_TYPES = {"TEXT": "text", "INTEGER": "bigint", "REAL": "double precision"}
SCHEMA_SQL = [
    "CREATE TABLE IF NOT EXISTS run_store_schema (version integer PRIMARY KEY, "
    "applied_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS run_files (run_id text NOT NULL, name text NOT NULL, data bytea NOT NULL, "
    "size bigint NOT NULL, sha256 text NOT NULL, written_at timestamptz NOT NULL DEFAULT now(), "
    "PRIMARY KEY (run_id, name))",
    # Models are zip archives and arrays barely compress: store them out of line without trying.
    "ALTER TABLE run_files ALTER COLUMN data SET STORAGE EXTERNAL",
    "CREATE TABLE IF NOT EXISTS run_index (" + ", ".join(
        f"{name} {'text PRIMARY KEY' if name == 'run_id' else _SQL_TYPES[kind.split()[0]]}"
        for name, kind in INDEX_COLUMNS.items()) + ")",
    "CREATE TABLE IF NOT EXISTS run_networks (name text PRIMARY KEY, spec_json text NOT NULL, "
    "saved_at timestamptz NOT NULL DEFAULT now())",
]


def mask(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: mask anything between user: and @
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _scrub(text: str, url: str) -> str:
    """A driver's message with the URL's password (should it appear) masked."""
    try:
        password = make_url(url).password
    except Exception:
        password = None
    return text.replace(password, "***") if password else text


def engine_url(url: str) -> sa.URL:
    """The SQLAlchemy URL for psycopg 3 (postgres:// and postgresql:// as hosted databases hand them out are
    accepted); StoreSettingError for anything else."""
    try:
        parsed = make_url(url)
    except Exception:
        raise StoreSettingError(f"RUN_STORE_URL is not a database URL: {mask(url)} (expected "
                                f"postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE).") from None
    if parsed.drivername not in SCHEMES:
        raise StoreSettingError(f"RUN_STORE_URL must be a PostgreSQL URL (postgresql+psycopg://...), not "
                                f"{mask(url)}.")
    if not parsed.host and not parsed.query.get("host"):
        raise StoreSettingError(f"RUN_STORE_URL names no database host: {mask(url)}.")
    return parsed.set(drivername="postgresql+psycopg")


class Database:
    """One database per URL and process: a connection pool (stale connections replaced after a restart), a
    pool-less engine for locks, the schema made sure of once. Thread-safe."""

    def __init__(self, url: str):
        self.url, self.shown = url, mask(url)
        target = engine_url(url)
        connect_args = {"connect_timeout": 10, "application_name": "digits-dashboard", "keepalives": 1,
                        "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
        self.engine = sa.create_engine(target, pool_pre_ping=True, pool_size=4, max_overflow=8,
                                       connect_args=connect_args, hide_parameters=True)
        self.lock_engine = sa.create_engine(target, poolclass=sa.pool.NullPool, connect_args=connect_args,
                                            hide_parameters=True)
        self._ready = False
        self._ready_lock = threading.Lock()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Database failures as StoreErrors whose message names the database (password masked) and the reason."""
        try:
            yield
        except sa.exc.DBAPIError as error:  # OperationalError, InterfaceError, ProgrammingError...
            reason = _scrub(str(getattr(error, "orig", None) or error).strip().splitlines()[0], self.url)
            reason = re.sub(r"^connection failed: ", "", reason)
            if any(sign in reason for sign in REFUSALS):
                raise StoreSettingError(f"The run store database {self.shown} refused the connection ({reason}): "
                                        f"check the user, password and database name in its URL.") from None
            if isinstance(error, (sa.exc.OperationalError, sa.exc.InterfaceError)) or error.connection_invalidated:
                raise StoreUnavailable(f"The run store database {self.shown} cannot be used right now ({reason}). "
                                       f"What it holds is safe, but what was being saved just now (a run that "
                                       f"finished training, a saved network) was not stored: try again when it is "
                                       f"back.") from None
            raise StoreError(f"The run store database {self.shown} refused a request ({reason}).") from None
        except sa.exc.SQLAlchemyError as error:  # e.g. a pool timeout
            raise StoreUnavailable(f"The run store database {self.shown} cannot be used right now "
                                   f"({_scrub(str(error).splitlines()[0], self.url)}).") from None

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A connection in a transaction, committed on leaving, rolled back on any exception."""
        self.ensure_schema()
        with self.errors(), self.engine.begin() as connection:
            yield connection

    def ensure_schema(self) -> None:
        """Create the tables on first use (one creator at a time across processes) and check the version. A
        database at this version is only read here: no DDL, whose table locks would wait behind writers."""
        if self._ready:
            return
        with self._ready_lock, self.errors():
            if self._ready:
                return
            with self.engine.begin() as connection:
                newest = self._version(connection)
            if newest != SCHEMA_VERSION:
                with self.engine.begin() as connection:
                    connection.execute(sa.text("SELECT pg_advisory_xact_lock(:space, 0)"), {"space": SCHEMA})
                    newest = self._version(connection)
                    if newest is None:
                        for statement in SCHEMA_SQL:
                            connection.execute(sa.text(statement))
                        connection.execute(sa.text("INSERT INTO run_store_schema (version) VALUES (:v) "
                                                   "ON CONFLICT (version) DO NOTHING"), {"v": SCHEMA_VERSION})
                        newest = SCHEMA_VERSION
            if newest > SCHEMA_VERSION:
                raise StoreSettingError(f"The run store database {self.shown} was written by a newer version of "
                                        f"this app (schema {newest}; this one knows {SCHEMA_VERSION}): update it.")
            self._ready = True

    @staticmethod
    def _version(connection) -> int | None:
        """The newest schema version applied, or None for a database without our tables."""
        # Not to_regclass: a server process remembers a name it once failed to find until it next takes a lock,
        # so after waiting on the creator's advisory lock it would still say "no table". pg_class read as a table
        # goes through this statement's snapshot and sees the creator's commit.
        if not connection.execute(sa.text(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE c.relname = 'run_store_schema' AND n.nspname = current_schema())"
        )).scalar():
            return None
        return connection.execute(sa.text("SELECT max(version) FROM run_store_schema")).scalar()

    def dispose(self) -> None:
        self.engine.dispose()
        self.lock_engine.dispose()


_DATABASES: dict[str, Database] = {}
_DATABASES_LOCK = threading.Lock()


def database(url: str) -> Database:
    """The process's Database for `url` (made once; StoreSettingError for a URL that cannot be one)."""
    with _DATABASES_LOCK:
        if url not in _DATABASES:
            _DATABASES[url] = Database(url)
        return _DATABASES[url]
