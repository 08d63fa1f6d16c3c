"""Import of cases: the landlord's list of tenants behind with rent or served a notice.

Columns are documented in ``docs/import.md``. A case is matched by ``case_ref`` (upsert), belongs
to the tenant named by ``tenant_ref`` (who must already be imported) and never moves to another
tenant by import: that would more likely be a typo than a fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.imports import fields
from storage.imports.columns import (
    Column,
    ParsedRow,
    assign,
    check_header,
    duplicate_keys,
    read_rows,
    reference,
)
from storage.imports.csv_source import read_csv
from storage.imports.errors import ImportRejected, ImportResult, RowError
from storage.models import AuditEntry, Case, CaseKind, CaseStage, Tenant

KIND_NAMES = [kind.value for kind in CaseKind]

CASE_COLUMNS: tuple[Column, ...] = (
    Column("case_ref", reference),
    Column("kind", lambda raw: CaseKind(fields.choice(raw, KIND_NAMES))),
    Column("amount_overdue", fields.amount_ore),
    Column("rent_due_date", fields.iso_date),
    Column("notice_served_on", fields.iso_date),
    Column("recovery_deadline", fields.iso_date),
    Column("kronofogden_applied_on", fields.iso_date),
    Column("eviction_date", fields.iso_date),
)
CASE_FIELDS = [column.name for column in CASE_COLUMNS]
REQUIRED_CASE_FIELDS = ("case_ref", "kind", "amount_overdue")


def _required(names: Iterable[str]) -> tuple[Column, ...]:
    wanted = set(names)
    return tuple(
        Column(column.name, column.read, required=column.name in wanted) for column in CASE_COLUMNS
    )


CASES_FILE_COLUMNS: tuple[Column, ...] = (
    Column("tenant_ref", reference, required=True),
    *_required(REQUIRED_CASE_FIELDS),
)


def initial_stage(kind: CaseKind, eviction_date: Any) -> CaseStage:
    if kind is CaseKind.NOTICE:
        return CaseStage.NOTICE_SERVED
    if kind is CaseKind.KRONOFOGDEN:
        return CaseStage.EVICTION_SCHEDULED if eviction_date else CaseStage.KRONOFOGDEN_APPLIED
    return CaseStage.OVERDUE


def check_case_values(row: ParsedRow) -> list[RowError]:
    """Rules that involve several cells of one row: each case kind needs its own date.

    A cell that already failed to parse is not reported again as missing.
    """
    line, values = row.line, row.values
    errors = []
    kind = values.get("kind")
    if kind is CaseKind.ARREARS and values.get("rent_due_date") is None:
        errors.append(RowError(line, "rent_due_date", "an arrears case needs the rent due date"))
    if kind is CaseKind.NOTICE and values.get("notice_served_on") is None:
        errors.append(RowError(line, "notice_served_on", "a notice case needs the date the notice was served"))
    served, deadline = values.get("notice_served_on"), values.get("recovery_deadline")
    if served and deadline and deadline <= served:
        errors.append(RowError(line, "recovery_deadline", "must be after notice_served_on"))
    if deadline and not served:
        errors.append(RowError(line, "notice_served_on", "a recovery deadline needs the notice date"))
    return [error for error in errors if error.column not in row.failed]


def case_conflicts(
    session: Session, rows: Sequence[tuple[int, str, str]]
) -> tuple[dict[str, Case], list[RowError]]:
    """Existing cases by ref, and an error for each ref that already belongs to another tenant."""
    refs = [case_ref for _, case_ref, _ in rows]
    existing = {
        case.external_ref: case
        for case in session.scalars(select(Case).where(Case.external_ref.in_(refs))).all()
    } if refs else {}
    owner_refs = {
        tenant.id: tenant.external_ref
        for tenant in session.scalars(
            select(Tenant).where(Tenant.id.in_({case.tenant_id for case in existing.values()}))
        )
    }
    errors = []
    for line, case_ref, tenant_ref in rows:
        case = existing.get(case_ref)
        if case is not None and owner_refs[case.tenant_id] != tenant_ref:
            errors.append(
                RowError(line, "case_ref", f"{case_ref!r} belongs to tenant {owner_refs[case.tenant_id]!r}")
            )
    return existing, errors


def upsert_case(session: Session, tenant: Tenant, existing: Case | None, values: dict[str, Any]) -> str:
    """Create or update one case; return "created", "updated" or "unchanged"."""
    data = {name: values.get(name) for name in CASE_FIELDS if name != "case_ref"}
    data["amount_overdue_ore"] = data.pop("amount_overdue")
    if existing is None:
        stage = initial_stage(data["kind"], data["eviction_date"])
        session.add(Case(external_ref=values["case_ref"], tenant=tenant, stage=stage, **data))
        return "created"
    kind_changed = existing.kind != data["kind"]
    changed = assign(existing, data)
    if kind_changed:
        existing.stage = initial_stage(data["kind"], data["eviction_date"])
    return "updated" if changed else "unchanged"


def import_cases(session: Session, path: Path) -> ImportResult:
    """Validate the whole file, then upsert every case in the caller's transaction.

    Raises :class:`ImportRejected` listing every problem, having written nothing.
    """
    table = read_csv(path)
    errors = list(table.errors) + check_header(table, CASES_FILE_COLUMNS)
    if errors:
        raise ImportRejected(errors)
    rows, errors = read_rows(table, CASES_FILE_COLUMNS)
    errors += duplicate_keys(rows, "case_ref")
    for row in rows:
        errors += check_case_values(row)
    tenant_refs = {row.values["tenant_ref"] for row in rows if row.values["tenant_ref"]}
    tenants = {
        tenant.external_ref: tenant
        for tenant in session.scalars(select(Tenant).where(Tenant.external_ref.in_(tenant_refs)))
    } if tenant_refs else {}
    for row in rows:
        ref = row.values["tenant_ref"]
        if ref and ref not in tenants:
            errors.append(RowError(row.line, "tenant_ref", f"no tenant {ref!r}; import the tenants first"))
    keyed = _keyed(rows)
    existing, conflicts = case_conflicts(session, keyed)
    errors += conflicts
    if errors:
        raise ImportRejected(errors)
    result = ImportResult()
    for row in rows:
        tenant = tenants[row.values["tenant_ref"]]
        result.count("cases", upsert_case(session, tenant, existing.get(row.values["case_ref"]), row.values))
    record_import(session, "cases", path, result)
    session.flush()
    return result


def _keyed(rows: Sequence[ParsedRow]) -> list[tuple[int, str, str]]:
    return [
        (row.line, row.values["case_ref"], row.values["tenant_ref"])
        for row in rows
        if row.values.get("case_ref") and row.values.get("tenant_ref")
    ]


def record_import(session: Session, kind: str, path: Path, result: ImportResult) -> None:
    """Audit an import that changed something; counts and the file name only, no personal data."""
    if result.changed:
        session.add(
            AuditEntry(
                actor="import",
                action=f"import_{kind}",
                object_type="file",
                object_id=path.name[:64],
                details=result.counts,
            )
        )
