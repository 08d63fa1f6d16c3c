"""Meeting slots staff publish and the (three-party) meetings tenants book in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, enum_column, utc_now
from storage.models.enums import Channel, MeetingSlotStatus, MeetingStatus
from storage.models.people import Tenant


class MeetingSlot(Base):
    """A time a staff member is available to meet a tenant."""

    __tablename__ = "meeting_slots"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_meeting_slots_status_start", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[MeetingSlotStatus] = mapped_column(
        enum_column(MeetingSlotStatus, "meeting_slot_status"), default=MeetingSlotStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Meeting(Base):
    """A booked meeting. ``slot_id`` is unique, so one slot can never be booked twice."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("meeting_slots.id"), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    status: Mapped[MeetingStatus] = mapped_column(enum_column(MeetingStatus, "meeting_status"))
    booked_via: Mapped[Channel | None] = mapped_column(enum_column(Channel, "channel"))
    booked_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    include_social_services: Mapped[bool] = mapped_column(default=False)
    booked_at: Mapped[datetime] = mapped_column(default=utc_now)

    slot: Mapped[MeetingSlot] = relationship()
    tenant: Mapped[Tenant] = relationship()
