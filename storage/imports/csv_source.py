"""Reading a landlord's CSV the way Swedish offices write them.

Excel in Sweden saves with semicolons (the comma is the decimal sign) and often with a UTF-8 BOM;
other tools use commas. The separator is taken from the header line, which holds no free text.
Line numbers are the file's own (the header is line 1), counted by the csv module so a quoted
value spanning lines does not shift them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from storage.imports.errors import ImportRejected, RowError


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    """The rows that could be split into cells, and the lines that could not (reported together)."""

    columns: list[str]
    rows: list[CsvRow]
    errors: list[RowError]


def normalise_header(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRejected(
            [RowError(line, "-", "the file is not UTF-8 text; save it as 'CSV UTF-8' and try again")]
        ) from None


def _separator(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse_csv(data: bytes) -> CsvTable:
    """Split ``data`` into a header and rows keyed by normalised column name; blank lines are skipped."""
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    if not first_line.strip():
        raise ImportRejected([RowError(1, "-", "the first line must hold the column names")])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(first_line))
    try:
        header = [normalise_header(name) for name in next(reader)]
        rows: list[CsvRow] = []
        errors: list[RowError] = []
        start = reader.line_num + 1
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                errors.append(
                    RowError(line, "-", f"has {len(values)} values but the header has {len(header)} columns")
                )
                continue
            rows.append(CsvRow(line, dict(zip(header, values, strict=True))))
    except csv.Error as error:
        raise ImportRejected([RowError(reader.line_num, "-", f"not readable as CSV: {error}")]) from None
    return CsvTable(header, rows, errors)


def read_csv(path: Path) -> CsvTable:
    return parse_csv(path.read_bytes())
