"""Alembic environment: always run with a connection handed over by ``storage.migrate``.

Going through ``storage.migrate`` (rather than an ``alembic.ini``) means migrations use the same
engine settings as the app (SQLite pragmas, psycopg 3) and the same URL setting.
"""

from __future__ import annotations

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'bokvar db upgrade' (storage.migrate), not bare alembic")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
