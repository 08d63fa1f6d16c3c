"""A case: one tenant's risk of losing their home, on the legal timeline of Jordabalken ch. 12."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, enum_column, utc_now
from storage.models.enums import CaseKind, CaseOutcome, CaseStage
from storage.models.people import Tenant


class Case(Base):
    """Amounts are whole öre in an integer: a message must match the legal notice to the öre.

    ``recovery_deadline`` is stored, not derived on the fly, so the date shown to staff and tenants
    is the one decided once (from the notice or computed by the scheduler) and never drifts.
    """

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("amount_overdue_ore >= 0", name="amount_not_negative"),
        Index("ix_cases_open", "closed_at", "tenant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CaseKind] = mapped_column(enum_column(CaseKind, "case_kind"))
    stage: Mapped[CaseStage] = mapped_column(enum_column(CaseStage, "case_stage"))
    rent_due_date: Mapped[date | None]
    amount_overdue_ore: Mapped[int] = mapped_column(BigInteger)
    notice_served_on: Mapped[date | None]
    recovery_deadline: Mapped[date | None]
    kronofogden_applied_on: Mapped[date | None]
    eviction_date: Mapped[date | None]
    outcome: Mapped[CaseOutcome | None] = mapped_column(enum_column(CaseOutcome, "case_outcome"))
    paid_at: Mapped[datetime | None]
    paused_until: Mapped[datetime | None] = mapped_column(
        comment="reminders wait until then, e.g. while staff verify a reported payment"
    )
    opened_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    tenant: Mapped[Tenant] = relationship()
