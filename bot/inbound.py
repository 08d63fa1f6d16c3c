"""The one inbound path: every channel's messages are stored here, once, before anything else.

Twilio, Telegram and the simulator all hand an :class:`Inbound` to :func:`receive`. It stores
the message exactly once per provider id (and a Telegram update once per ``update_id``), finds
the tenant by the contact point, mirrors provider opt-outs and links Telegram chats. Whatever the
message means is decided afterwards by the dialogue; a message nobody can place becomes a task,
so nothing a person wrote is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.base import Inbound
from bot.telegram_linking import LinkRefusal, link_chat
from storage.delivery import opt_out_contact_point
from storage.models import (
    ContactPoint,
    Direction,
    InboundReceipt,
    Message,
    MessageStatus,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Task,
    TaskKind,
)

UNKNOWN_SENDER_PRIORITY = 40


@dataclass(frozen=True)
class Received:
    """What storing an inbound did; ``message_id`` is None for a repeated delivery."""

    message_id: int | None
    tenant_id: int | None = None
    duplicate: bool = False
    link_refusal: LinkRefusal | None = None


def _already_received(session: Session, inbound: Inbound) -> bool:
    if inbound.event_id is not None:
        seen = session.scalar(
            select(InboundReceipt.id).where(
                InboundReceipt.channel == inbound.channel, InboundReceipt.external_id == inbound.event_id
            )
        )
        if seen is not None:
            return True
    stored = session.scalar(
        select(Message.id).where(Message.channel == inbound.channel, Message.provider_id == inbound.provider_id)
    )
    return stored is not None


def _contact_point(session: Session, inbound: Inbound) -> ContactPoint | None:
    return session.scalar(
        select(ContactPoint)
        .where(ContactPoint.channel == inbound.channel, ContactPoint.address == inbound.address)
        .order_by(ContactPoint.active.desc(), ContactPoint.id.desc())
    )


def _queue_link_confirmation(session: Session, tenant_id: int, message: Message, now: datetime) -> None:
    session.add(
        OutboxItem(
            dedupe_key=f"telegram-linked:{message.id}", kind=OutboxKind.REPLY, tenant_id=tenant_id,
            template_key="telegram_linked", values={}, channel_order=["telegram"],
            in_reply_to_message_id=message.id, status=OutboxStatus.PENDING, due_at=now, created_at=now,
        )
    )


def receive(session: Session, inbound: Inbound, now: datetime) -> Received:
    """Store ``inbound`` once and apply what the provider already decided (opt-out, linking)."""
    if _already_received(session, inbound):
        return Received(None, duplicate=True)
    link = None
    if inbound.start_code:
        link = link_chat(session, inbound.start_code, inbound.address, now)
    point = _contact_point(session, inbound)
    tenant_id = point.tenant_id if point is not None else None
    message = Message(
        tenant_id=tenant_id, contact_point_id=point.id if point else None, direction=Direction.INBOUND,
        channel=inbound.channel, body=inbound.text or (f"[{inbound.attachment}]" if inbound.attachment else ""),
        payload=inbound.payload, provider_id=inbound.provider_id,
        status=MessageStatus.RECEIVED, created_at=inbound.received_at or now,
    )
    session.add(message)
    session.flush()
    if inbound.event_id is not None:
        receipt = InboundReceipt(
            channel=inbound.channel, external_id=inbound.event_id, received_at=now, message_id=message.id
        )
        session.add(receipt)
    if point is not None and inbound.opt_out:
        opt_out_contact_point(point, "provider_keyword", now)
    if point is not None and inbound.opt_in and point.opted_out:
        point.opted_out, point.opted_out_at, point.opt_out_source = False, None, None
    if link is not None and link.newly_linked and tenant_id is not None:
        _queue_link_confirmation(session, tenant_id, message, now)
    if tenant_id is None and link is None:
        session.add(
            Task(
                kind=TaskKind.OTHER, priority=UNKNOWN_SENDER_PRIORITY, message_id=message.id, created_at=now,
                summary=f"A message on {inbound.channel.value} from an address that belongs to no tenant.",
            )
        )
    session.flush()
    return Received(message.id, tenant_id, link_refusal=link.refusal if link else None)
