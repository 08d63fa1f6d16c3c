"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

Storage tests take the ``database_url`` fixture and so run once per backend. PostgreSQL runs when
``BOKVAR_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); each test gets a schema of its own,
dropped afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.database import make_engine, make_session_factory, normalise_url
from storage.migrate import upgrade

POSTGRES_URL_VARIABLE = "BOKVAR_TEST_POSTGRES_URL"
_backend_runs: Counter[str] = Counter()


def _postgres_schema_url(base_url: str, schema: str) -> sa.URL:
    url = normalise_url(base_url)
    return url.update_query_dict({"options": f"-csearch_path={schema}"})


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database on each backend (PostgreSQL: a fresh schema)."""
    if request.param == "sqlite":
        _backend_runs["sqlite"] += 1
        yield f"sqlite:///{tmp_path / 'bokvar-test.db'}"
        return
    base = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")
    schema = f"bokvar_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    _backend_runs["postgresql"] += 1
    try:
        yield _postgres_schema_url(base, schema).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database: the schema comes from the migrations, exactly as in production."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly which database backends the storage tests ran on (CI output shows this)."""
    if not _backend_runs:
        return
    ran = ", ".join(f"{backend} ({count} tests)" for backend, count in sorted(_backend_runs.items()))
    terminalreporter.write_line(f"storage tests ran on: {ran}")
    if "postgresql" not in _backend_runs:
        terminalreporter.write_line(f"PostgreSQL was skipped: set {POSTGRES_URL_VARIABLE} to run it")
