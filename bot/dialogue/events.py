"""What the dialogue decided, as plain data: the host applies these in one transaction.

One section per event kind, goflow-style: a ``kind`` constant, the fields, and the JSON shape in
the docstring (``as_json()`` gives it; datetimes as ISO 8601 with offset, dates as ISO dates).
The host (``bot.conversation``) has one small handler per kind. The list of events of one
inbound message is also the audit trail of what the bot decided and why.

Ordering inside an :class:`~bot.dialogue.flows.Outcome` matters only for replies (sent in order);
every other event is independent of the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar

from storage.models.enums import Channel, TaskKind

__all__ = [
    "BookMeeting",
    "Button",
    "Event",
    "OfferSlots",
    "OpenTask",
    "OptIn",
    "OptOut",
    "PauseReminders",
    "RecordConsent",
    "RefuseConsent",
    "Reply",
    "RevokeConsent",
    "SwitchLanguage",
]


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event; ``kind`` names it in JSON and in the host's handler table."""

    kind: ClassVar[str] = "event"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **{f.name: _plain(getattr(self, f.name)) for f in fields(self)}}


# --- replies ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Button:
    """A reply option: an inline button on Telegram; on SMS only its number is in the text.

    ``payload`` is what the button sends back, read exactly like typed text ("2").
    """

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Reply(Event):
    """Send the catalogue text ``template_key`` in ``language`` with typed ``values``.

    ``{"kind": "reply", "template_key": "meeting_offer", "language": "sv",
    "values": {"slots": ["2025-12-02T10:00:00+01:00", …]}, "buttons": [{"label": "1) tis 2 dec. 10:00",
    "payload": "1"}]}``

    ``values`` hold exactly the key's declared placeholders, as the types ``messages.render``
    takes (öre as int, dates, aware datetimes, lists of slot datetimes, text). The host queues it in
    the outbox as a reply on the channel the tenant wrote on; a reply may go out at once, outside
    the planned-outreach window. The one exception to opt-out: the ``opted_out`` confirmation
    that follows an :class:`OptOut` must be sent once on the channel just opted out.
    """

    kind: ClassVar[str] = "reply"
    template_key: str
    language: str
    values: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()


# --- tasks for staff -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenTask(Event):
    """Put a task in the staff inbox. Lower ``priority`` comes first.

    ``{"kind": "open_task", "task_kind": "help_request", "priority": 20, "summary": "…",
    "due_at": "2025-12-02T16:00:00+01:00", "notes": ["Language switched from sv to ar"]}``

    ``summary`` may quote the tenant's words (personal data: it lives in the task only, never in
    logs). Priorities: see :mod:`bot.dialogue.flows` (urgent 0, consent withdrawn 10, help 20, …).
    """

    kind: ClassVar[str] = "open_task"
    task_kind: TaskKind
    priority: int
    summary: str
    due_at: datetime
    notes: tuple[str, ...] = ()


# --- consent ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordConsent(Event):
    """Record that the tenant gave consent, with the evidence GDPR Art. 7 asks for.

    ``{"kind": "record_consent", "municipality": "Norrköping", "counterparty": "socialtjänsten i
    Norrköping", "direction": "both", "data_categories": ["rent_debt", "contact_details"],
    "purpose": "…", "template_key": "consent_request", "template_language": "sv",
    "text_sha256": "9f2c…" | null, "channel": "sms", "inbound_message_id": 812, "reply_text": "ja",
    "valid_from": "2025-12-01T09:14:00+00:00", "valid_until": "2026-11-30"}``

    Evidence of *what was shown*: ``template_key`` and ``template_language`` of the last consent
    text sent, and ``text_sha256`` of its exact rendered text when the host passed that text in
    ``Facts.consent_text_shown`` (else null: the host then hashes the outbox text it sent, which
    it holds, and stores the template version). Evidence of *how it was given*: channel, the
    stored inbound message id and the reply's words.
    """

    kind: ClassVar[str] = "record_consent"
    municipality: str
    counterparty: str
    direction: str
    data_categories: tuple[str, ...]
    purpose: str
    template_key: str
    template_language: str
    text_sha256: str | None
    channel: Channel
    inbound_message_id: int | None
    reply_text: str
    valid_from: datetime
    valid_until: date


@dataclass(frozen=True, slots=True)
class RefuseConsent(Event):
    """Record that the tenant said no to sharing (a decision, kept like a consent).

    ``{"kind": "refuse_consent", "municipality": "Norrköping", "template_key": "consent_request",
    "template_language": "sv", "channel": "sms", "inbound_message_id": 812, "reply_text": "nej"}``
    """

    kind: ClassVar[str] = "refuse_consent"
    municipality: str
    template_key: str
    template_language: str
    channel: Channel
    inbound_message_id: int | None
    reply_text: str


@dataclass(frozen=True, slots=True)
class RevokeConsent(Event):
    """Withdraw the tenant's valid consent from now on; the host also stops any sharing.

    ``{"kind": "revoke_consent", "municipality": "Norrköping", "how": "sms",
    "inbound_message_id": 815, "reply_text": "ÅTERKALLA", "at": "2025-12-05T08:00:00+00:00"}``
    """

    kind: ClassVar[str] = "revoke_consent"
    municipality: str
    how: str
    inbound_message_id: int | None
    reply_text: str
    at: datetime


# --- meetings --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfferSlots(Event):
    """The meeting slots offered, in the order of their numbers (also kept in the state context).

    ``{"kind": "offer_slots", "slot_ids": [41, 42, 45]}``
    """

    kind: ClassVar[str] = "offer_slots"
    slot_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BookMeeting(Event):
    """Book ``slot_id`` for the tenant (the host refuses a slot booked meanwhile: unique slot).

    ``{"kind": "book_meeting", "slot_id": 42, "include_social_services": true, "channel": "sms"}``

    ``include_social_services`` is true when a valid consent exists: only then may the landlord
    invite the municipality's social services to the meeting.
    """

    kind: ClassVar[str] = "book_meeting"
    slot_id: int
    include_social_services: bool
    channel: Channel


# --- channel preferences -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OptOut(Event):
    """Stop every message on ``channel`` (planned, replies, staff), except the one confirmation.

    ``{"kind": "opt_out", "channel": "sms"}``
    """

    kind: ClassVar[str] = "opt_out"
    channel: Channel


@dataclass(frozen=True, slots=True)
class OptIn(Event):
    """Allow messages on ``channel`` again.

    ``{"kind": "opt_in", "channel": "sms"}``
    """

    kind: ClassVar[str] = "opt_in"
    channel: Channel


# --- language and reminders --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SwitchLanguage(Event):
    """The tenant wrote, confidently, in another catalogue language: use it from now on.

    ``{"kind": "switch_language", "code": "ar", "previous": "sv", "confidence": 0.98}``
    """

    kind: ClassVar[str] = "switch_language"
    code: str
    previous: str
    confidence: float


@dataclass(frozen=True, slots=True)
class PauseReminders(Event):
    """Hold the case's planned reminders until ``until`` (or until staff confirm the payment).

    ``{"kind": "pause_reminders", "case_id": 7, "until": "2025-12-06T09:14:00+00:00"}``
    """

    kind: ClassVar[str] = "pause_reminders"
    case_id: int
    until: datetime
