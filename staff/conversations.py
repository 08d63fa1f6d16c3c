"""A tenant's whole conversation, both directions, as staff read it (and the audit of reading it).

Messages already sent come from ``messages``; what is still waiting in the outbox (a staff reply
the dispatcher has not sent yet) is shown too, marked as queued, so a staff member sees their own
answer at once and nobody answers twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff import audit
from staff.auth import Viewer
from storage.models import Direction, Message, OutboxItem, OutboxStatus, StaffUser

MAX_MESSAGES = 300


@dataclass(frozen=True)
class Line:
    """One message in the thread. ``status`` is the provider's delivery status or ``queued``."""

    at: datetime
    direction: Direction
    channel: str
    body: str
    language: str | None
    status: str
    template_key: str | None = None
    template_version: int | None = None
    segments: int | None = None
    sent_by: str | None = None  # staff member who typed it, for staff replies

    @property
    def inbound(self) -> bool:
        return self.direction is Direction.INBOUND


def conversation(session: Session, tenant_id: int, fallback_language: str | None = None) -> list[Line]:
    """Messages of ``tenant_id`` oldest first, then what is still queued for them."""
    messages = session.scalars(
        select(Message).where(Message.tenant_id == tenant_id)
        .order_by(Message.created_at.desc(), Message.id.desc()).limit(MAX_MESSAGES)
    ).all()
    authors = dict(session.execute(
        select(OutboxItem.message_id, StaffUser.display_name)
        .join(StaffUser, StaffUser.id == OutboxItem.created_by_staff_id)
        .where(OutboxItem.tenant_id == tenant_id, OutboxItem.message_id.is_not(None))
    ).all())
    lines = [
        Line(m.created_at, m.direction, m.channel.value, m.body,
             m.language or (fallback_language if m.direction is Direction.OUTBOUND else None),
             m.status.value, m.template_key, m.template_version, m.segments, authors.get(m.id))
        for m in reversed(messages)
    ]
    queued = session.execute(
        select(OutboxItem, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == OutboxItem.created_by_staff_id)
        .where(OutboxItem.tenant_id == tenant_id,
               OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
               OutboxItem.message_id.is_(None))
        .order_by(OutboxItem.due_at, OutboxItem.id)
    ).all()
    lines += [
        Line(item.created_at, Direction.OUTBOUND, (item.channel_order or ["–"])[0],
             item.body if item.body is not None else f"[{item.template_key}]",
             fallback_language, "queued", item.template_key, None, None, author)
        for item, author in queued
    ]
    return lines


def record_view(session: Session, viewer: Viewer, tenant_id: int, now: datetime, via: str,
                task_id: int | None = None) -> None:
    """Write the audit entry for one view of a tenant's conversation (who, what, when)."""
    details: dict[str, object] = {"via": via}
    if task_id is not None:
        details["task_id"] = task_id
    audit.record(session, viewer, "view_conversation", "tenant", tenant_id, now, **details)
