"""One-line test data: "a tenant in Malmö with a phone and an overdue case"."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Case, CaseKind, CaseStage, Channel, ContactPoint, Municipality, Tenant


def make_tenant(
    session: Session,
    ref: str = "T-1",
    *,
    language: str = "sv",
    phone: str | None = "+46701740605",
    telegram_chat: str | None = None,
    municipality: str = "Malmö",
    name: str = "Test Tenant",
) -> Tenant:
    town = session.scalars(select(Municipality).where(Municipality.name == municipality)).one()
    tenant = Tenant(external_ref=ref, name=name, preferred_language=language, municipality=town)
    session.add(tenant)
    if phone:
        session.add(ContactPoint(tenant=tenant, channel=Channel.SMS, address=phone, priority=20))
    if telegram_chat:
        session.add(ContactPoint(tenant=tenant, channel=Channel.TELEGRAM, address=telegram_chat, priority=10))
    session.flush()
    return tenant


def make_case(session: Session, tenant: Tenant, ref: str = "C-1", amount_ore: int = 845_000) -> Case:
    case = Case(
        external_ref=ref, tenant=tenant, kind=CaseKind.ARREARS, stage=CaseStage.OVERDUE,
        rent_due_date=date(2026, 11, 30), amount_overdue_ore=amount_ore,
    )
    session.add(case)
    session.flush()
    return case
