"""A staff member's answer to a tenant: written to the outbox, never sent from here.

The outbox is the one way out (``shared/architecture.md``), so opt-out, retries, channel
fallback and the delivery record apply to staff answers exactly as to the bot's. A free-text
answer is stored as ``body``; a template answer as its key and typed values, rendered at send
time in the tenant's language of that moment by the dispatcher.

Only a few templates make sense as a staff answer, and only when the case holds every fact they
need (an amount, a deadline): the console offers those, filled from the case, never typed in.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from messages import catalogue
from messages.errors import MessagesError
from messages.render import RenderedMessage, render
from messages.segments import SegmentInfo, analyse
from scheduler.outbox_values import encode_values
from staff import audit
from staff.auth import Viewer
from storage.models import Case, ContactPoint, OutboxItem, OutboxKind, OutboxStatus, Tenant

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MAX_REPLY_LENGTH = 1000
# Answers a person may pick; texts that open a dialogue step (menu, consent request, slots) are
# left to the bot, which also records what it is waiting for.
STAFF_TEMPLATE_KEYS = ("arrears_help_offer", "recovery_reminder", "consent_explanation", "payment_acknowledged")


class ReplyError(ValueError):
    """The answer cannot be queued; ``code`` names why, for the console to explain."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code = code
        super().__init__(detail or code)


def channel_order(session: Session, tenant_id: int) -> list[str]:
    """The tenant's usable channels, best first: active, not opted out, by contact priority."""
    points = session.scalars(
        select(ContactPoint).where(ContactPoint.tenant_id == tenant_id, ContactPoint.active.is_(True),
                                   ContactPoint.opted_out.is_(False))
        .order_by(ContactPoint.priority, ContactPoint.id)
    ).all()
    return list(dict.fromkeys(point.channel.value for point in points))


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=STOCKHOLM)


def case_values(tenant: Tenant, case: Case | None) -> dict[str, object]:
    """Placeholder values the facts on file can fill; a missing fact leaves its name out."""
    values: dict[str, object] = {}
    if tenant.municipality is not None:
        values["municipality"] = tenant.municipality.name
    if case is not None:
        values["amount"] = case.amount_overdue_ore
        if case.rent_due_date:
            values["due_date"] = case.rent_due_date
        if case.recovery_deadline:
            values["deadline"] = _end_of_day(case.recovery_deadline)
        if case.eviction_date:
            values["eviction_date"] = case.eviction_date
    return values


def template_options(tenant: Tenant, case: Case | None) -> list[str]:
    """The staff templates whose every placeholder the case can fill."""
    values = case_values(tenant, case)
    return [key for key in STAFF_TEMPLATE_KEYS if set(catalogue.spec(key).placeholders) <= set(values)]


def preview_template(tenant: Tenant, case: Case | None, key: str, language: str | None = None) -> RenderedMessage:
    """The text the tenant would get now (shipped default texts; the dispatcher uses the latest
    published version at send time)."""
    if key not in template_options(tenant, case):
        raise ReplyError("template_unavailable", key)
    values = case_values(tenant, case)
    spec = catalogue.spec(key)
    return render(key, language or tenant.preferred_language, {name: values[name] for name in spec.placeholders})


def count_segments(text: str) -> SegmentInfo:
    """The live counter's answer; the same function the dispatcher's budget checks use."""
    return analyse(text)


@dataclass(frozen=True)
class QueuedReply:
    outbox_id: int
    channels: list[str]


def queue_reply(session: Session, viewer: Viewer, tenant: Tenant, now: datetime, *, body: str | None = None,
                template_key: str | None = None, case: Case | None = None,
                in_reply_to_message_id: int | None = None, task_id: int | None = None) -> QueuedReply:
    """Put a staff answer in the outbox, due now; raise :class:`ReplyError` if it cannot go."""
    text = (body or "").strip()
    if bool(text) == bool(template_key):
        raise ReplyError("choose_one", "write a text or choose a template (one of them)")
    if len(text) > MAX_REPLY_LENGTH:
        raise ReplyError("too_long", f"at most {MAX_REPLY_LENGTH} characters")
    channels = channel_order(session, tenant.id)
    if not channels:
        raise ReplyError("unreachable", "the tenant has no channel that may be used (none, or opted out)")
    values: dict[str, object] = {}
    if template_key:
        try:
            rendered = preview_template(tenant, case, template_key)
        except MessagesError as error:
            raise ReplyError("template_unavailable", str(error)) from error
        values = {name: case_values(tenant, case)[name] for name in catalogue.spec(rendered.key).placeholders}
    item = OutboxItem(
        dedupe_key=f"staff:{uuid.uuid4()}", kind=OutboxKind.STAFF, tenant_id=tenant.id,
        case_id=case.id if case else None, template_key=template_key or None,
        values=encode_values(values), body=text or None, channel_order=channels,
        in_reply_to_message_id=in_reply_to_message_id, created_by_staff_id=viewer.id,
        status=OutboxStatus.PENDING, due_at=now, created_at=now,
    )
    session.add(item)
    session.flush()
    details: dict[str, object] = {"outbox_id": item.id, "template_key": template_key}
    if task_id is not None:
        details["task_id"] = task_id
    audit.record(session, viewer, "reply_queued", "tenant", tenant.id, now, **details)
    return QueuedReply(item.id, channels)
