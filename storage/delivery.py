"""Delivery status from providers, applied so that a message's status only ever moves forward.

Callbacks arrive out of order (``delivered`` before ``sent``) and sometimes before we have even
recorded the provider id of the message. Each callback is stored once as a :class:`DeliveryEvent`;
it moves its message forward if the message is known, and otherwise waits, applied later by
:func:`apply_pending_events` when the dispatcher records the id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.models import Channel, ContactPoint, DeliveryEvent, Message, MessageStatus

UNSUBSCRIBED_ERROR = "21610"
"""Twilio's "unsubscribed recipient": the tenant texted STOP at the carrier; kept as an opt-out."""


class StatusUpdate(Protocol):
    """A provider's status callback as the channels parse it (``bot.channels.base.StatusUpdate``)."""

    @property
    def channel(self) -> Channel: ...
    @property
    def provider_id(self) -> str: ...
    @property
    def status(self) -> MessageStatus: ...
    @property
    def error_code(self) -> str | None: ...

# Higher rank wins; equal rank keeps the first. Final outcomes share a rank so a late "failed"
# cannot overwrite "delivered" or the other way round; only "read" goes beyond "delivered".
STATUS_RANK: dict[MessageStatus, int] = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 1,
    MessageStatus.ACCEPTED: 1,
    MessageStatus.SCHEDULED: 1,
    MessageStatus.SENDING: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.UNDELIVERED: 4,
    MessageStatus.FAILED: 4,
    MessageStatus.CANCELED: 4,
    MessageStatus.READ: 5,
}


def moves_forward(current: MessageStatus, new: MessageStatus) -> bool:
    return STATUS_RANK[new] > STATUS_RANK[current]


def opt_out_contact_point(point: ContactPoint, source: str, now: datetime) -> bool:
    """Mark ``point`` opted out (once); return whether anything changed."""
    if point.opted_out:
        return False
    point.opted_out = True
    point.opted_out_at = now
    point.opt_out_source = source
    return True


def _serialise_with_recording(session: Session, channel: Channel, provider_id: str) -> None:
    """Take a per-message lock (PostgreSQL) shared by a callback and the recording of its message's id.

    Under READ COMMITTED a callback arriving while the dispatcher records the provider id could
    miss the message (not committed yet) while the dispatcher misses the callback's event (not
    committed either): the event would never be applied. Holding the same transaction-scoped lock
    makes the later of the two see what the earlier committed. SQLite serialises writers already.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    key = f"delivery:{channel.value}:{provider_id}"
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def _apply(session: Session, message: Message, event: DeliveryEvent, now: datetime) -> None:
    if moves_forward(message.status, event.status):
        message.status = event.status
        message.status_updated_at = now
        if event.error_code:
            message.error_code = event.error_code
    if event.error_code == UNSUBSCRIBED_ERROR and message.contact_point_id is not None:
        point = session.get(ContactPoint, message.contact_point_id)
        if point is not None:
            opt_out_contact_point(point, "twilio_21610", now)
    event.applied = True


def record_status(session: Session, update: StatusUpdate, now: datetime) -> bool:
    """Store one status callback and apply it if its message is known; False for a repeat."""
    _serialise_with_recording(session, update.channel, update.provider_id)
    repeated = session.scalar(
        select(DeliveryEvent.id).where(
            DeliveryEvent.channel == update.channel,
            DeliveryEvent.provider_id == update.provider_id,
            DeliveryEvent.status == update.status,
        )
    )
    if repeated is not None:
        return False
    event = DeliveryEvent(
        channel=update.channel, provider_id=update.provider_id, status=update.status,
        error_code=update.error_code, received_at=now,
    )
    session.add(event)
    message = session.scalar(
        select(Message).where(Message.channel == update.channel, Message.provider_id == update.provider_id)
    )
    if message is not None:
        _apply(session, message, event, now)
    session.flush()
    return True


def apply_pending_events(session: Session, message: Message, now: datetime) -> None:
    """Apply callbacks that arrived before ``message``'s provider id was recorded."""
    if message.provider_id is None:
        return
    _serialise_with_recording(session, Channel(message.channel), message.provider_id)
    events = session.scalars(
        select(DeliveryEvent).where(
            DeliveryEvent.channel == Channel(message.channel),
            DeliveryEvent.provider_id == message.provider_id,
            DeliveryEvent.applied.is_(False),
        ).order_by(DeliveryEvent.id)
    )
    for event in events:
        _apply(session, message, event, now)


def mark_unreachable(point: ContactPoint, opted_out: bool, source: str, now: datetime) -> bool:
    """Record a permanent send failure on the address: an opt-out, or an address that cannot work.

    An opt-out (Twilio 21610, a blocked bot) is the tenant's choice and is kept as such; any other
    permanent failure (invalid or landline number, unknown chat) deactivates the address so the
    dispatcher falls back to the next channel instead of trying it again.
    """
    if opted_out:
        return opt_out_contact_point(point, source, now)
    if not point.active:
        return False
    point.active = False
    return True
