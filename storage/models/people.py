"""Who we reach: municipalities, tenants, and the addresses (contact points) we reach them at."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, enum_column, utc_now
from storage.models.enums import Channel, HouseholdType


class Municipality(Base):
    """A municipality the landlord has a collaboration agreement with.

    Its social-services contact and the version of its consent form (samtyckesblankett) travel
    with it, because consent is given for sharing with one named municipal board.
    """

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(4), unique=True, comment="SCB kommunkod, e.g. 1280")
    name: Mapped[str] = mapped_column(String(100), unique=True)
    social_services_name: Mapped[str | None] = mapped_column(String(200))
    social_services_email: Mapped[str | None] = mapped_column(String(200))
    social_services_phone: Mapped[str | None] = mapped_column(String(32))
    consent_form_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    tenants: Mapped[list[Tenant]] = relationship(back_populates="municipality")


class Tenant(Base):
    """A tenant, known to us by the landlord's external reference.

    No personnummer is stored, not even hashed: the landlord's reference is enough to match rows,
    and what we do not hold cannot leak. Birth year and household type exist only for anonymous
    reports.
    """

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(8))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipalities.id"), index=True)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    household_type: Mapped[HouseholdType | None] = mapped_column(
        enum_column(HouseholdType, "household_type")
    )
    quiet_hours_start: Mapped[time | None] = mapped_column(comment="local time; no outreach from here")
    quiet_hours_end: Mapped[time | None] = mapped_column(comment="local time; outreach allowed again")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    municipality: Mapped[Municipality] = relationship(back_populates="tenants")
    contact_points: Mapped[list[ContactPoint]] = relationship(
        back_populates="tenant", order_by="ContactPoint.priority"
    )


class ContactPoint(Base):
    """One address of a tenant on one channel: a phone number in E.164 or a Telegram chat id.

    Opt-out is per contact point (a tenant may stop SMS but keep Telegram). A replaced number is
    deactivated rather than deleted, so old messages keep pointing at the address they went to.
    """

    __tablename__ = "contact_points"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel", "address"),
        Index("ix_contact_points_channel_address", "channel", "address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    address: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(default=100, comment="lower is tried first")
    active: Mapped[bool] = mapped_column(default=True)
    verified: Mapped[bool] = mapped_column(default=False)
    opted_out: Mapped[bool] = mapped_column(default=False)
    opted_out_at: Mapped[datetime | None]
    opt_out_source: Mapped[str | None] = mapped_column(
        String(64), comment="e.g. keyword, twilio_21610, twilio_advanced_opt_out, telegram_blocked"
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    tenant: Mapped[Tenant] = relationship(back_populates="contact_points")


class TelegramLinkCode(Base):
    """A one-time, expiring code in a ``t.me/<bot>?start=<code>`` deep link; never a tenant id."""

    __tablename__ = "telegram_link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_chat_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
