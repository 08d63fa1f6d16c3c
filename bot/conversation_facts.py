"""What the host looks up for the dialogue, and how it reads and stores the conversation state.

The pure core never queries anything: this module turns the database into
:class:`bot.dialogue.Facts` and :class:`bot.dialogue.ConversationState`, and back.

The state a tenant answers in is usually set by the last dialogue turn. Planned outreach and staff
messages are sent by the dispatcher, which knows nothing of the dialogue: their question ("reply
1, 2 or 3") is picked up here, lazily, from the newest such message sent after the stored state
(``_after_message`` in the stored context marks the newest outbound message the state knew of).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dialogue import CaseFacts, ConversationState, Facts, Slot, state_after_sending
from scheduler.calendar import STOCKHOLM, next_business_day
from storage.consent_rules import ConsentState, state_of
from storage.models import (
    Case,
    Consent,
    ConsentStatus,
    ContactPoint,
    Direction,
    MeetingSlot,
    MeetingSlotStatus,
    Message,
    OutboxItem,
    OutboxKind,
    Tenant,
)
from storage.models import ConversationState as StoredState

CONSENT_TEXT_KEYS = ("consent_request", "consent_explanation")
SEEN_MARK = "_after_message"
"""Context key (host-only, stripped before the dialogue sees it) of the newest outbound message id."""

SLOT_LEAD_TIME = timedelta(hours=2)
"""Slots starting sooner than this are not offered: nobody can plan to be there in time."""
SLOTS_LOOKED_UP = 6
"""More than the three offered, so a slot taken meanwhile can be replaced at once."""
CALL_BY_HOUR = 16
"""A person phones by 16:00 on the next business day."""


def open_case(session: Session, tenant_id: int) -> Case | None:
    """The tenant's newest open case: the one the conversation is about."""
    return session.scalar(
        select(Case)
        .where(Case.tenant_id == tenant_id, Case.closed_at.is_(None))
        .order_by(Case.opened_at.desc(), Case.id.desc())
        .limit(1)
    )


def _newest_outbound_id(session: Session, tenant_id: int) -> int:
    newest = session.scalar(
        select(func.max(Message.id)).where(Message.tenant_id == tenant_id, Message.direction == Direction.OUTBOUND)
    )
    return int(newest or 0)


def _question_sent_after(session: Session, tenant_id: int, after_id: int) -> Message | None:
    """The newest planned or staff message with a template sent after ``after_id`` (not a dialogue reply)."""
    return session.scalar(
        select(Message)
        .join(OutboxItem, OutboxItem.message_id == Message.id)
        .where(
            Message.tenant_id == tenant_id,
            Message.direction == Direction.OUTBOUND,
            Message.id > after_id,
            Message.template_key.is_not(None),
            OutboxItem.kind != OutboxKind.REPLY,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )


def current_state(session: Session, tenant: Tenant, now: datetime) -> ConversationState:
    """The state to read the next reply in: the stored one, or the question sent since."""
    stored = session.get(StoredState, tenant.id)
    context = dict(stored.context or {}) if stored is not None else {}
    after_id = int(context.pop(SEEN_MARK, 0))
    language = stored.language if stored is not None and stored.language else tenant.preferred_language
    question = _question_sent_after(session, tenant.id, after_id)
    if question is not None and question.template_key is not None:
        return state_after_sending(question.template_key, language, question.created_at)
    if stored is None:
        return ConversationState(language=language)
    return ConversationState(stored.awaiting, context, language, stored.expires_at)


def _free_slots(session: Session, now: datetime) -> tuple[Slot, ...]:
    slots = session.scalars(
        select(MeetingSlot)
        .where(MeetingSlot.status == MeetingSlotStatus.OPEN, MeetingSlot.starts_at >= now + SLOT_LEAD_TIME)
        .order_by(MeetingSlot.starts_at, MeetingSlot.id)
        .limit(SLOTS_LOOKED_UP)
    ).all()
    return tuple(Slot(slot.id, slot.starts_at, slot.location or "") for slot in slots)


def valid_consent(session: Session, tenant: Tenant, now: datetime) -> Consent | None:
    """A consent in force now by the same rule the console shares under (:mod:`storage.consent_rules`)."""
    given = session.scalars(
        select(Consent)
        .where(Consent.tenant_id == tenant.id, Consent.status == ConsentStatus.GIVEN)
        .order_by(Consent.captured_at.desc(), Consent.id.desc())
    )
    return next((c for c in given if state_of(c, tenant, now) is ConsentState.VALID), None)


def last_consent_text(session: Session, tenant_id: int) -> Message | None:
    """The newest consent request or explanation sent to the tenant: what they said yes or no to."""
    return session.scalar(
        select(Message)
        .where(
            Message.tenant_id == tenant_id,
            Message.direction == Direction.OUTBOUND,
            Message.template_key.in_(CONSENT_TEXT_KEYS),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )


def call_by(now: datetime) -> datetime:
    """16:00 Stockholm time on the next business day (holidays and eves skipped)."""
    day = next_business_day(now.astimezone(STOCKHOLM).date() + timedelta(days=1))
    return datetime(day.year, day.month, day.day, CALL_BY_HOUR, tzinfo=STOCKHOLM)


def gather_facts(
    session: Session, tenant: Tenant, message: Message, state: ConversationState, now: datetime
) -> Facts:
    """Everything the dialogue may need to answer ``message``, looked up once."""
    case = open_case(session, tenant.id)
    point = session.get(ContactPoint, message.contact_point_id) if message.contact_point_id else None
    shown = last_consent_text(session, tenant.id)
    return Facts(
        language=state.language or tenant.preferred_language,
        channel=message.channel,
        case=CaseFacts(case.id, case.amount_overdue_ore, case.recovery_deadline) if case is not None else None,
        free_slots=_free_slots(session, now),
        consent_valid=valid_consent(session, tenant, now) is not None,
        municipality=tenant.municipality.name if tenant.municipality is not None else None,
        opted_out=bool(point is not None and point.opted_out),
        consent_text_shown=shown.body if shown is not None else None,
        inbound_message_id=message.id,
        call_by=call_by(now),
    )


def store_state(session: Session, tenant: Tenant, facts: Facts, state: ConversationState, now: datetime) -> None:
    """Keep the next state, remembering which outbound messages it already accounts for."""
    stored = session.get(StoredState, tenant.id)
    if stored is None:
        stored = StoredState(tenant_id=tenant.id)
        session.add(stored)
    stored.awaiting = state.awaiting
    stored.context = {**dict(state.context), SEEN_MARK: _newest_outbound_id(session, tenant.id)}
    stored.language = state.language or facts.language
    stored.case_id = facts.case.id if facts.case is not None else None
    stored.expires_at = state.expires_at
    stored.last_inbound_at = now
