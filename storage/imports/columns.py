"""Column specifications and the loop that reads every cell of a file against them.

A file is checked completely before anything is written, so the landlord gets every problem in one
report (line, column, reason) instead of fixing a file one error at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.imports.csv_source import CsvTable
from storage.imports.errors import FieldError, RowError

FORBIDDEN_COLUMNS = {"personnummer", "personal_number", "pnr", "ssn", "personnr", "samordningsnummer"}


@dataclass(frozen=True)
class Column:
    name: str
    read: Callable[[str], Any]
    required: bool = False


@dataclass(frozen=True)
class ParsedRow:
    """A row's values; ``failed`` names cells already reported, so no follow-on error repeats them."""

    line: int
    values: dict[str, Any]
    failed: frozenset[str] = frozenset()


def check_header(table: CsvTable, columns: Sequence[Column]) -> list[RowError]:
    known = {column.name for column in columns}
    errors = []
    for name in table.columns:
        if name in FORBIDDEN_COLUMNS:
            errors.append(
                RowError(1, name, "Bokvar never stores personnummer; remove this column from the file")
            )
        elif name not in known:
            errors.append(RowError(1, name, f"unknown column (known: {', '.join(sorted(known))})"))
    seen = set()
    for name in table.columns:
        if name in seen:
            errors.append(RowError(1, name, "this column appears twice"))
        seen.add(name)
    for column in columns:
        if column.required and column.name not in table.columns:
            errors.append(RowError(1, column.name, "required column is missing"))
    return errors


def read_rows(table: CsvTable, columns: Sequence[Column]) -> tuple[list[ParsedRow], list[RowError]]:
    """Every cell read by its column; a missing optional column or an empty optional cell is None."""
    rows: list[ParsedRow] = []
    errors: list[RowError] = []
    for row in table.rows:
        values: dict[str, Any] = {}
        failed: set[str] = set()
        for column in columns:
            raw = row.cells.get(column.name, "").strip()
            if not raw:
                if column.required:
                    errors.append(RowError(row.line, column.name, "is empty but required"))
                values[column.name] = None
                continue
            try:
                values[column.name] = column.read(raw)
            except FieldError as error:
                errors.append(RowError(row.line, column.name, str(error)))
                values[column.name] = None
                failed.add(column.name)
        rows.append(ParsedRow(row.line, values, frozenset(failed)))
    return rows, errors


def duplicate_keys(rows: Sequence[ParsedRow], column: str) -> list[RowError]:
    first_line: dict[Any, int] = {}
    errors = []
    for row in rows:
        key = row.values.get(column)
        if key is None:
            continue
        if key in first_line:
            errors.append(RowError(row.line, column, f"{key!r} already appears on line {first_line[key]}"))
        else:
            first_line[key] = row.line
    return errors


def assign(target: object, values: dict[str, Any]) -> bool:
    """Set only the attributes whose value differs; report whether anything changed.

    Re-importing the same file must change nothing, not even ``updated_at``, so unchanged rows are
    never touched.
    """
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def reference(raw: str) -> str:
    text = raw.strip()
    if len(text) > 64:
        raise FieldError("is longer than 64 characters")
    return text


def text(max_length: int) -> Callable[[str], str]:
    def read(raw: str) -> str:
        value = " ".join(raw.split())
        if len(value) > max_length:
            raise FieldError(f"is longer than {max_length} characters")
        return value

    return read
