"""What an import reports: every bad cell with its line and column, or what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field


class FieldError(ValueError):
    """A cell's value could not be read; the message says why in words an office worker follows."""


@dataclass(frozen=True, order=True)
class RowError:
    """One problem, located the way a spreadsheet user finds it: file line and column name."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


class ImportRejected(Exception):
    """The file had problems, so nothing at all was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass
class ImportResult:
    """Counts per kind of row: ``{"tenants": {"created": 3, "updated": 0, "unchanged": 2}}``."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, kind: str, change: str) -> None:
        bucket = self.counts.setdefault(kind, {"created": 0, "updated": 0, "unchanged": 0})
        bucket[change] += 1

    @property
    def changed(self) -> bool:
        return any(bucket["created"] or bucket["updated"] for bucket in self.counts.values())

    def summary(self) -> str:
        return "; ".join(
            f"{kind}: {b['created']} created, {b['updated']} updated, {b['unchanged']} unchanged"
            for kind, b in self.counts.items()
        )
