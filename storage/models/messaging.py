"""Messages in both directions, the outbox that is the only way out, and conversation state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, enum_column, utc_now
from storage.models.enums import Awaiting, Channel, Direction, MessageStatus, OutboxKind, OutboxStatus
from storage.models.people import ContactPoint, Tenant


class Message(Base):
    """A message that went to or came from a tenant, as the provider saw it.

    ``(channel, provider_id)`` is unique: a retried webhook for the same Twilio ``MessageSid``
    finds the row it already stored and changes nothing.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id"),
        Index("ix_messages_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    contact_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_points.id", ondelete="SET NULL"), index=True
    )
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "direction"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[str | None] = mapped_column(String(128), comment="button payload (Telegram)")
    language: Mapped[str | None] = mapped_column(String(8))
    template_key: Mapped[str | None] = mapped_column(String(64))
    template_version: Mapped[int | None] = mapped_column(Integer)
    provider_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus, "message_status"))
    error_code: Mapped[str | None] = mapped_column(String(32))
    segments: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    status_updated_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None] = mapped_column(
        comment="inbound only: when the dialogue acted on it (set once, so a repeat changes nothing)"
    )

    tenant: Mapped[Tenant | None] = relationship()
    contact_point: Mapped[ContactPoint | None] = relationship()


class InboundReceipt(Base):
    """Every provider event we accepted, once: Telegram ``update_id``s, status callbacks, etc.

    Some provider events create no message (a status callback, a button press that was already
    answered); this table is what makes a repeated webhook a no-op for them too.
    """

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    external_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))


class OutboxItem(Base):
    """A message we intend to send. Everything to a tenant passes through here.

    ``dedupe_key`` (e.g. ``case:12:step:first_reminder``) is unique, so planning twice, or on two
    machines, plans nothing twice. The text is rendered at send time from ``template_key`` and
    ``values`` in the tenant's language of that moment, unless ``body`` holds a staff member's
    free text. ``claimed_by``/``claimed_until`` let a crashed dispatcher's rows be found and
    reconciled instead of re-sent blindly.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[OutboxKind] = mapped_column(enum_column(OutboxKind, "outbox_kind"))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    template_key: Mapped[str | None] = mapped_column(String(64))
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body: Mapped[str | None] = mapped_column(Text, comment="free text typed by staff")
    channel_order: Mapped[list[str]] = mapped_column(JSON, default=list)
    in_reply_to_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus, "outbox_status"))
    due_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    withdrawn_reason: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class ConversationState(Base):
    """What the last message asked the tenant, so the next reply is read in context.

    One row per tenant: the conversation is with the person, whichever channel they answer on.
    ``expires_at`` lets a question lapse (a "2" a month later is not a slot choice).
    """

    __tablename__ = "conversation_states"

    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    awaiting: Mapped[Awaiting] = mapped_column(enum_column(Awaiting, "awaiting"))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str | None] = mapped_column(String(8))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime | None]
    last_inbound_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class DeliveryEvent(Base):
    """Every delivery status a provider reported, kept as history and applied to its message.

    Status callbacks can arrive before the dispatcher has recorded the provider id of the message
    (the provider is fast, our commit is later). Such an event is kept with ``applied`` false and
    applied when the id is recorded, so no status is lost. ``(channel, provider_id, status)`` is
    unique: a repeated callback is a no-op.
    """

    __tablename__ = "delivery_events"
    __table_args__ = (UniqueConstraint("channel", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    provider_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus, "message_status"))
    error_code: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    applied: Mapped[bool] = mapped_column(default=False)
