"""Which process runs the planner: on PostgreSQL the one holding an advisory lock, on SQLite this one.

Several Bokvar processes may share a PostgreSQL database (web processes and ``bokvar worker``\\ s);
the dispatchers share the outbox through ``SKIP LOCKED``, but the planner should run in one place.
The first process to take ``pg_try_advisory_lock`` leads until it dies or disconnects: the lock is
held by a session of its own (a dedicated connection in autocommit, so it never sits idle in a
transaction), and PostgreSQL releases it when that session ends, so a crashed leader is replaced
at the next try of another process. No home-made coordination beyond that.

The lock key is derived from the schema the process uses, so two deployments (or two test runs)
in different schemas of one database do not block each other.

Before each planner run the leader checks that its lock session is still alive; if the connection
was lost, so was the lock, and it competes for it again like everybody else. The planner is
idempotent (unique ``dedupe_key``\\ s), so the short window in which a partitioned old leader and a
new one might both plan costs nothing but work.

SQLite has no advisory locks and one writer at a time: every process "leads" and may plan.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("bokvar.scheduler")

LOCK_NAME = "bokvar.planner"


def lock_key(name: str, schema: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` (the name is per schema)."""
    digest = hashlib.blake2b(f"{name}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leadership:
    """Answers "may this process run the planner now?"; on PostgreSQL by holding the advisory lock."""

    def __init__(self, engine: Engine, name: str = LOCK_NAME) -> None:
        self.engine = engine
        self.name = name
        self.postgresql = engine.dialect.name == "postgresql"
        self._connection: Connection | None = None
        # The planner and the escalation job ask from different threads; two first asks at once
        # would open two sessions, and the second would find the lock taken by the first.
        self._guard = threading.Lock()

    def acquire(self) -> bool:
        """Take the lock if it is free, or confirm we still hold it; False if another process leads."""
        if not self.postgresql:
            return True
        with self._guard:
            return self._acquire()

    def _acquire(self) -> bool:
        if self._connection is not None:
            if self._alive(self._connection):
                return True
            log.warning("the planner lock's database session was lost; competing for the lock again")
            self._forget()
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one() or "public"
            key = lock_key(self.name, schema)
            taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one())
        except Exception:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        log.info("this process now runs the planner (it holds the PostgreSQL advisory lock)")
        return True

    def release(self) -> None:
        """Give the lock up, e.g. at shutdown."""
        with self._guard:
            self._forget()

    def _forget(self) -> None:
        """End the lock's session. Closing alone would hand the connection back to the pool with
        the session (and the lock) still alive; invalidating closes the database session itself."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()
            connection.close()

    @staticmethod
    def _alive(connection: Connection) -> bool:
        try:
            connection.execute(text("SELECT 1"))
        except DBAPIError:
            return False
        return True
