"""One small handler per dialogue event: what each decision changes in storage.

Called by :func:`bot.conversation.process_inbound` inside its transaction. Every row written
here carries a key derived from the inbound message (``reply:<message id>:<n>`` and so on), so
even a bug that ran a message twice could not double a reply or a task.

Replies go to the outbox on the channel the tenant wrote on, due at once (a reply to someone who
just wrote is not planned outreach and may go outside the sending window).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.conversation_facts import last_consent_text
from bot.dialogue import (
    BookMeeting,
    Event,
    Facts,
    OfferSlots,
    OpenTask,
    OptIn,
    OptOut,
    PauseReminders,
    RecordConsent,
    RefuseConsent,
    Reply,
    RevokeConsent,
    SwitchLanguage,
)
from bot.dialogue.flows import CONSENT_SCOPE
from messages.render import render
from scheduler.calendar import STOCKHOLM
from scheduler.outbox_values import encode_values
from storage.delivery import opt_out_contact_point
from storage.models import (
    Case,
    Consent,
    ConsentStatus,
    ContactPoint,
    Meeting,
    MeetingSlot,
    MeetingSlotStatus,
    MeetingStatus,
    Message,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Task,
    TaskKind,
    TaskNote,
    Tenant,
)

CONSENT_WITHDRAWN_PRIORITY = 10
SLOT_TAKEN_PRIORITY = 25
CONSENT_OPT_OUT_SOURCE = "tenant_reply"


class _Turn:
    """The inbound message being handled and a counter for the keys of the rows it creates."""

    def __init__(self, session: Session, tenant: Tenant, message: Message, facts: Facts, now: datetime) -> None:
        self.session, self.tenant, self.message, self.facts, self.now = session, tenant, message, facts, now
        self.replies = 0
        self.tasks = 0
        self.skip_reply_keys: set[str] = set()

    @property
    def case_id(self) -> int | None:
        return self.facts.case.id if self.facts.case is not None else None

    def point(self) -> ContactPoint | None:
        if self.message.contact_point_id is None:
            return None
        return self.session.get(ContactPoint, self.message.contact_point_id)

    def queue_reply(self, template_key: str, values: dict[str, Any], buttons: list[dict[str, str]]) -> None:
        self.replies += 1
        stored = encode_values(values)
        if buttons:
            stored["_buttons"] = buttons
        self.session.add(
            OutboxItem(
                dedupe_key=f"reply:{self.message.id}:{self.replies}", kind=OutboxKind.REPLY,
                tenant_id=self.tenant.id, case_id=self.case_id, template_key=template_key, values=stored,
                channel_order=[self.message.channel.value], in_reply_to_message_id=self.message.id,
                status=OutboxStatus.PENDING, due_at=self.now, created_at=self.now,
            )
        )

    def open_task(self, kind: TaskKind, priority: int, summary: str, due_at: datetime | None,
                  notes: Iterable[str] = ()) -> Task:
        self.tasks += 1
        task = Task(
            kind=kind, priority=priority, tenant_id=self.tenant.id, case_id=self.case_id,
            message_id=self.message.id, summary=summary, due_at=due_at, created_at=self.now,
            dedupe_key=f"dialogue:{self.message.id}:{self.tasks}",
        )
        self.session.add(task)
        self.session.flush()
        for note in notes:
            self.session.add(TaskNote(task_id=task.id, body=note, created_at=self.now))
        return task


def _reply(turn: _Turn, event: Reply) -> None:
    if event.template_key in turn.skip_reply_keys:
        return
    buttons = [asdict(button) for button in event.buttons]
    turn.queue_reply(event.template_key, dict(event.values), buttons)


def _open_task(turn: _Turn, event: OpenTask) -> None:
    turn.open_task(event.task_kind, event.priority, event.summary, event.due_at, event.notes)


def _text_shown(turn: _Turn, template_key: str, language: str) -> tuple[str, int | None]:
    """The SHA-256 and template version of the consent text the tenant answered."""
    shown = last_consent_text(turn.session, turn.tenant.id)
    if shown is not None:
        return hashlib.sha256(shown.body.encode("utf-8")).hexdigest(), shown.template_version
    municipality = turn.facts.municipality or ""
    text = render(template_key, language, {"municipality": municipality}).text
    return hashlib.sha256(text.encode("utf-8")).hexdigest(), None


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=STOCKHOLM)


def _counterparty(turn: _Turn, fallback: str) -> str:
    municipality = turn.tenant.municipality
    return (municipality.social_services_name if municipality is not None else None) or fallback


def _record_consent(turn: _Turn, event: RecordConsent) -> None:
    digest, version = _text_shown(turn, event.template_key, event.template_language)
    municipality = turn.tenant.municipality
    turn.session.add(
        Consent(
            tenant_id=turn.tenant.id, status=ConsentStatus.GIVEN, municipality_id=turn.tenant.municipality_id,
            counterparty=_counterparty(turn, event.counterparty), direction=event.direction,
            data_categories=list(event.data_categories), purpose=event.purpose,
            consent_form_version=municipality.consent_form_version if municipality is not None else None,
            template_key=event.template_key, template_version=version, text_sha256=event.text_sha256 or digest,
            language=event.template_language, captured_channel=event.channel,
            captured_message_id=event.inbound_message_id, captured_at=turn.now, valid_from=event.valid_from,
            expires_at=_end_of_day(event.valid_until),
        )
    )


def _refuse_consent(turn: _Turn, event: RefuseConsent) -> None:
    digest, version = _text_shown(turn, event.template_key, event.template_language)
    turn.session.add(
        Consent(
            tenant_id=turn.tenant.id, status=ConsentStatus.REFUSED, municipality_id=turn.tenant.municipality_id,
            counterparty=_counterparty(turn, f"socialtjänsten i {event.municipality}"),
            direction=str(CONSENT_SCOPE["direction"]), data_categories=list(CONSENT_SCOPE["data_categories"]),
            purpose=str(CONSENT_SCOPE["purpose"]), template_key=event.template_key, template_version=version,
            text_sha256=digest, language=event.template_language, captured_channel=event.channel,
            captured_message_id=event.inbound_message_id, captured_at=turn.now,
        )
    )


def _revoke_consent(turn: _Turn, event: RevokeConsent) -> None:
    """Withdraw every consent still in force; the dialogue's own task tells staff to stop sharing."""
    turn.session.execute(
        update(Consent)
        .where(
            Consent.tenant_id == turn.tenant.id,
            Consent.status == ConsentStatus.GIVEN,
            Consent.withdrawn_at.is_(None),
        )
        .values(
            status=ConsentStatus.WITHDRAWN, withdrawn_at=event.at, withdrawn_how=event.how,
            withdrawn_message_id=event.inbound_message_id,
        )
    )


def _offer_slots(turn: _Turn, event: OfferSlots) -> None:
    """Nothing to write: the offered ids live in the conversation state's context."""


def _book_meeting(turn: _Turn, event: BookMeeting) -> None:
    """Book the slot if it is still open; otherwise tell staff and do not confirm a meeting."""
    slot = turn.session.scalar(select(MeetingSlot).where(MeetingSlot.id == event.slot_id).with_for_update())
    taken = turn.session.scalar(select(Meeting.id).where(Meeting.slot_id == event.slot_id))
    if slot is None or slot.status is not MeetingSlotStatus.OPEN or taken is not None:
        turn.skip_reply_keys.add("meeting_booked")
        turn.open_task(
            TaskKind.MEETING_REQUEST, SLOT_TAKEN_PRIORITY,
            "The tenant chose a meeting time that was taken meanwhile: agree on another time.",
            turn.facts.call_by,
        )
        turn.queue_reply("help_acknowledged", encode_values({"call_by": turn.facts.call_by or turn.now}), [])
        return
    slot.status = MeetingSlotStatus.BOOKED
    turn.session.add(
        Meeting(
            slot_id=slot.id, tenant_id=turn.tenant.id, case_id=turn.case_id, status=MeetingStatus.BOOKED,
            booked_via=event.channel, include_social_services=event.include_social_services, booked_at=turn.now,
        )
    )
    turn.session.flush()


def _opt_out(turn: _Turn, event: OptOut) -> None:
    point = turn.point()
    if point is not None and point.channel is event.channel:
        opt_out_contact_point(point, CONSENT_OPT_OUT_SOURCE, turn.now)
    # Pending planned rows need nothing here: the dispatcher asks the planner's withdraw_reason at
    # send time (opted out on every channel -> withdrawn), and the planner tells staff.


def _opt_in(turn: _Turn, event: OptIn) -> None:
    point = turn.point()
    if point is not None and point.channel is event.channel and point.opted_out:
        point.opted_out, point.opted_out_at, point.opt_out_source = False, None, None


def _switch_language(turn: _Turn, event: SwitchLanguage) -> None:
    """The tenant's language from now on: templates, planned outreach and the console follow it."""
    turn.tenant.preferred_language = event.code


def _pause_reminders(turn: _Turn, event: PauseReminders) -> None:
    case = turn.session.get(Case, event.case_id)
    if case is not None and case.tenant_id == turn.tenant.id:
        case.paused_until = max(case.paused_until or event.until, event.until)


HANDLERS: dict[type[Event], Callable[[_Turn, Any], None]] = {
    Reply: _reply,
    OpenTask: _open_task,
    RecordConsent: _record_consent,
    RefuseConsent: _refuse_consent,
    RevokeConsent: _revoke_consent,
    OfferSlots: _offer_slots,
    BookMeeting: _book_meeting,
    OptOut: _opt_out,
    OptIn: _opt_in,
    SwitchLanguage: _switch_language,
    PauseReminders: _pause_reminders,
}


def apply_events(
    session: Session, tenant: Tenant, message: Message, facts: Facts, events: Iterable[Event], now: datetime
) -> None:
    """Apply ``events`` in order; bookings first, so a failed booking can replace its confirmation."""
    turn = _Turn(session, tenant, message, facts, now)
    ordered = sorted(events, key=lambda event: 0 if isinstance(event, BookMeeting) else 1)
    for event in ordered:
        HANDLERS[type(event)](turn, event)
