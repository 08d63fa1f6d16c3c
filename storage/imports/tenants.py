"""Import of tenants, optionally each with their open case on the same row.

Columns are documented in ``docs/import.md``. Tenants are matched by ``tenant_ref`` (upsert). A
landlord's arrears list often has one row per tenant with the debt beside it, so the case columns
of ``import cases`` may appear here too: a row that fills any of them must fill ``case_ref``,
``kind`` and ``amount_overdue``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.imports import fields
from storage.imports.cases import (
    CASE_COLUMNS,
    CASE_FIELDS,
    REQUIRED_CASE_FIELDS,
    case_conflicts,
    check_case_values,
    record_import,
    upsert_case,
)
from storage.imports.columns import (
    Column,
    ParsedRow,
    assign,
    check_header,
    duplicate_keys,
    read_rows,
    reference,
    text,
)
from storage.imports.csv_source import read_csv
from storage.imports.errors import ImportRejected, ImportResult, RowError
from storage.models import Channel, ContactPoint, HouseholdType, Municipality, Tenant

HOUSEHOLD_TYPES = [household.value for household in HouseholdType]
SMS_PRIORITY = 20


def tenant_columns(languages: Mapping[str, str]) -> tuple[Column, ...]:
    return (
        Column("tenant_ref", reference, required=True),
        Column("name", text(200), required=True),
        Column("language", partial(fields.language_code, accepted=languages), required=True),
        Column("municipality", text(100), required=True),
        Column("phone", fields.phone_e164),
        Column("birth_year", partial(fields.birth_year, this_year=date.today().year)),
        Column("household_type", lambda raw: HouseholdType(fields.choice(raw, HOUSEHOLD_TYPES))),
        Column("quiet_hours", fields.quiet_hours),
        *CASE_COLUMNS,
    )


def _municipalities(session: Session) -> dict[str, Municipality]:
    """Municipalities by lower-case name and by SCB code, so either may be written in the file."""
    found: dict[str, Municipality] = {}
    for municipality in session.scalars(select(Municipality)):
        found[municipality.name.lower()] = municipality
        found[municipality.code] = municipality
    return found


def _check_case_cells(row: ParsedRow) -> list[RowError]:
    if all(row.values.get(name) is None and name not in row.failed for name in CASE_FIELDS):
        return []
    errors = [
        RowError(row.line, name, "is empty, but the row has other case columns filled")
        for name in REQUIRED_CASE_FIELDS
        if row.values.get(name) is None and name not in row.failed
    ]
    return errors + check_case_values(row)


def _has_case(row: ParsedRow) -> bool:
    return row.values.get("case_ref") is not None


def _tenant_data(values: dict[str, Any], municipality: Municipality) -> dict[str, Any]:
    quiet = values["quiet_hours"] or (None, None)
    return {
        "name": values["name"],
        "preferred_language": values["language"],
        "municipality_id": municipality.id,
        "birth_year": values["birth_year"],
        "household_type": values["household_type"],
        "quiet_hours_start": quiet[0],
        "quiet_hours_end": quiet[1],
    }


def _sync_phone(session: Session, tenant: Tenant, phone: str | None) -> bool:
    """Make ``phone`` the tenant's active SMS address; an empty cell leaves numbers as they are.

    A replaced number is deactivated, not deleted: messages keep pointing at where they went, and
    an opt-out stays attached to the number it was given from.
    """
    if phone is None:
        return False
    changed = False
    current = None
    for point in tenant.contact_points:
        if point.channel is not Channel.SMS:
            continue
        if point.address == phone:
            current = point
        elif point.active:
            point.active = False
            changed = True
    if current is None:
        session.add(ContactPoint(tenant=tenant, channel=Channel.SMS, address=phone, priority=SMS_PRIORITY))
        return True
    if not current.active:
        current.active = True
        changed = True
    return changed


def import_tenants(session: Session, path: Path, languages: Mapping[str, str]) -> ImportResult:
    """Validate the whole file, then upsert tenants (and cases on their rows) in one transaction.

    ``languages`` maps every accepted language code to the code stored (``messages.languages``
    owns that list; it is passed in so ``storage`` does not depend on ``messages``).
    Raises :class:`ImportRejected` listing every problem, having written nothing.
    """
    columns = tenant_columns(languages)
    table = read_csv(path)
    errors = list(table.errors) + check_header(table, columns)
    if errors:
        raise ImportRejected(errors)
    rows, errors = read_rows(table, columns)
    errors += duplicate_keys(rows, "tenant_ref") + duplicate_keys(rows, "case_ref")
    municipalities = _municipalities(session)
    for row in rows:
        name = row.values["municipality"]
        if name and name.lower() not in municipalities:
            known = ", ".join(sorted({m.name for m in municipalities.values()}))
            errors.append(RowError(row.line, "municipality", f"{name!r} is not a known municipality ({known})"))
        errors += _check_case_cells(row)
    existing_cases, conflicts = case_conflicts(
        session,
        [(row.line, row.values["case_ref"], row.values["tenant_ref"]) for row in rows if _has_case(row)],
    )
    errors += conflicts
    if errors:
        raise ImportRejected(errors)

    refs = [row.values["tenant_ref"] for row in rows]
    tenants = {
        tenant.external_ref: tenant
        for tenant in session.scalars(select(Tenant).where(Tenant.external_ref.in_(refs)))
    } if refs else {}
    result = ImportResult()
    for row in rows:
        data = _tenant_data(row.values, municipalities[row.values["municipality"].lower()])
        tenant = tenants.get(row.values["tenant_ref"])
        if tenant is None:
            tenant = Tenant(external_ref=row.values["tenant_ref"], **data)
            session.add(tenant)
            _sync_phone(session, tenant, row.values["phone"])
            result.count("tenants", "created")
        else:
            changed = assign(tenant, data)
            changed = _sync_phone(session, tenant, row.values["phone"]) or changed
            result.count("tenants", "updated" if changed else "unchanged")
        if _has_case(row):
            existing = existing_cases.get(row.values["case_ref"])
            result.count("cases", upsert_case(session, tenant, existing, row.values))
    record_import(session, "tenants", path, result)
    session.flush()
    return result

