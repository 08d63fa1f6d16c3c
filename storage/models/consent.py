"""Consent to share information with social services, and every disclosure made under it.

The fields follow ``shared/domain.md``: GDPR Art. 7 asks that consent be provable, specific,
informed and as easy to withdraw as to give, so the record keeps the exact text shown (key,
version, hash, language), how it was captured, its scope and expiry, and how it ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, enum_column, utc_now
from storage.models.enums import Channel, ConsentStatus
from storage.models.people import Municipality, Tenant


class Consent(Base):
    """One consent decision (given or refused) and, later, its withdrawal."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    status: Mapped[ConsentStatus] = mapped_column(enum_column(ConsentStatus, "consent_status"))
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id"))
    counterparty: Mapped[str] = mapped_column(String(200), comment="e.g. socialnämnden i Malmö")
    direction: Mapped[str] = mapped_column(String(32), comment="both | landlord_to_party | party_to_landlord")
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text)
    consent_form_version: Mapped[str | None] = mapped_column(String(32))
    template_key: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[int | None] = mapped_column(Integer)
    text_sha256: Mapped[str] = mapped_column(String(64), comment="hash of the exact text shown")
    language: Mapped[str] = mapped_column(String(8))
    captured_channel: Mapped[Channel | None] = mapped_column(enum_column(Channel, "channel"))
    captured_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    captured_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    captured_at: Mapped[datetime] = mapped_column(default=utc_now)
    valid_from: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_how: Mapped[str | None] = mapped_column(String(64))
    withdrawn_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    withdrawn_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))

    tenant: Mapped[Tenant] = relationship()
    municipality: Mapped[Municipality | None] = relationship()
    disclosures: Mapped[list[ConsentDisclosure]] = relationship(back_populates="consent")


class ConsentDisclosure(Base):
    """One act of sharing under a consent: the log the tenant may ask to see."""

    __tablename__ = "consent_disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consents.id", ondelete="CASCADE"), index=True)
    disclosed_at: Mapped[datetime] = mapped_column(default=utc_now)
    disclosed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(200))
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)

    consent: Mapped[Consent] = relationship(back_populates="disclosures")
