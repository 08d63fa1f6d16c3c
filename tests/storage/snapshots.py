"""A whole-database snapshot, to prove that a refused import left every table exactly as it was."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from storage.models import Base


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table)).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables
