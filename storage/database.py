"""Engines and sessions for SQLite (the embedded default) and PostgreSQL, from one URL.

SQLite is tuned for a web app and a dispatcher sharing one file: WAL so readers never block the
writer, a busy timeout so a second writer waits instead of failing, foreign keys on (SQLite leaves
them off by default), and every transaction opened with ``BEGIN IMMEDIATE``. The last one matters:
in WAL mode a deferred transaction that reads and then writes after another writer committed fails
at once with "database is locked", whatever the timeout; taking the write lock up front makes it
wait its turn instead (the recipe from SQLAlchemy's SQLite dialect documentation).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000


def normalise_url(url: str | URL) -> URL:
    """Use psycopg 3 for PostgreSQL whatever driver (or none) the URL names.

    "postgres://" is what many hosting providers hand out; SQLAlchemy no longer accepts it alone.
    """
    parsed = make_url(url)
    backend = parsed.drivername.split("+", 1)[0]
    if backend in ("postgres", "postgresql") and parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the settings each backend needs to be safe under load."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions keep loaded objects usable after commit: handlers often read what they just wrote."""
    return sessionmaker(engine, expire_on_commit=False)


_sqlite_writers: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def _writer_turn(factory: sessionmaker[Session]) -> AbstractContextManager[object]:
    """On SQLite, threads of one process take turns for the write lock through a Python lock.

    SQLite's busy handler polls with growing sleeps, which is unfair: under many concurrent
    writers (a burst of webhooks while the dialogue and the dispatcher write) one of them can
    wait past the busy timeout and fail. A process-wide lock queues them instead; other
    processes still meet at SQLite's own lock and its busy timeout. PostgreSQL needs nothing.
    """
    engine = factory.kw.get("bind")
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return nullcontext()
    with _registry_lock:
        lock = _sqlite_writers.setdefault(engine, threading.RLock())
    return lock


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block ends normally, roll back on any exception."""
    with _writer_turn(factory), factory() as session, session.begin():
        yield session
