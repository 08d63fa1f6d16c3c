"""Whole conversations through the host, in every catalogue language, on SQLite and PostgreSQL.

A tenant's reply is stored by the real inbound path, the host applies the dialogue's events, and
the real dispatcher (simulator channel) sends the queued replies, so what a test reads back is
what the tenant would have received.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound
from bot.channels.registry import Channels
from bot.conversation import handle_safely, process_inbound, process_unhandled
from bot.inbound import receive
from scheduler.dispatcher import AllowAll, Dispatcher
from storage.database import transaction
from storage.models import (
    Awaiting,
    Channel,
    Consent,
    ConsentStatus,
    ContactPoint,
    ConversationState,
    Direction,
    Meeting,
    MeetingSlot,
    MeetingSlotStatus,
    Message,
    MessageStatus,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Task,
    TaskKind,
    Tenant,
)
from tests.dialogue.conversation_phrases import PHRASES
from tests.factories import make_case, make_tenant

LANGUAGES = ["sv", "en", "ar", "so", "fa", "ti", "bs", "tr", "pl", "uk", "fi"]

STOP = {
    "sv": "STOPP", "en": "STOP", "ar": "توقف", "so": "jooji", "fa": "پیام نفرستید", "ti": "ደው ኣብሉ",
    "bs": "ne šaljite", "tr": "mesaj göndermeyin", "pl": "nie wysyłajcie", "uk": "не надсилайте", "fi": "lopeta",
}
WITHDRAW = {
    "sv": "återkalla", "en": "withdraw consent", "ar": "أسحب", "so": "waan ka noqday", "fa": "لغو رضایت",
    "ti": "ሰርዝ", "bs": "povlačim", "tr": "geri alıyorum", "pl": "cofam zgodę", "uk": "відкликаю", "fi": "perun",
}

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday morning
_numbers = itertools.count(1)


class Clock:
    """A controlled clock: each step of a conversation happens a few minutes after the last."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 3) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


def new_phone() -> str:
    return f"+4670174{next(_numbers):04d}"


def tenant_with_case(session: Session, language: str, ref: str) -> Tenant:
    tenant = make_tenant(session, ref, language=language, phone=new_phone())
    make_case(session, tenant, ref=f"C-{ref}")
    return tenant


def send_question(session: Session, tenant: Tenant, template_key: str, now: datetime) -> None:
    """What the dispatcher leaves behind after planned outreach: an outbox row and the sent message."""
    point = tenant.contact_points[0]
    message = Message(
        tenant_id=tenant.id, contact_point_id=point.id, direction=Direction.OUTBOUND, channel=Channel.SMS,
        body=f"[{template_key}]", language=tenant.preferred_language, template_key=template_key,
        status=MessageStatus.DELIVERED, provider_id=f"SM{next(_numbers):032d}", created_at=now,
    )
    session.add(message)
    session.flush()
    session.add(
        OutboxItem(
            dedupe_key=f"planned:{message.id}", kind=OutboxKind.PLANNED, tenant_id=tenant.id,
            template_key=template_key, values={}, channel_order=["sms"], status=OutboxStatus.SENT,
            due_at=now, created_at=now, message_id=message.id,
        )
    )


def publish_slots(session: Session, count: int = 4) -> list[int]:
    ids = []
    for day in range(count):
        starts = NOW + timedelta(days=day + 2, hours=1)
        slot = MeetingSlot(starts_at=starts, ends_at=starts + timedelta(minutes=45), location="Storgatan 1")
        session.add(slot)
        session.flush()
        ids.append(slot.id)
    return ids


class Conversation:
    """One tenant's side of the conversation, replying by SMS."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, tenant_id: int) -> None:
        self.sessions, self.clock, self.tenant_id = sessions, clock, tenant_id
        self.dispatcher = Dispatcher(sessions, Channels(), AllowAll(), worker="test", clock=clock, simulate_all=True)

    def say(self, text: str) -> int:
        """The tenant's reply arrives, the host acts on it, and the queued replies are sent."""
        now = self.clock.tick()
        with transaction(self.sessions) as session:
            tenant = session.get(Tenant, self.tenant_id)
            assert tenant is not None
            phone = next(p.address for p in tenant.contact_points if p.channel is Channel.SMS)
            inbound = Inbound(
                channel=Channel.SMS, address=phone, text=text, provider_id=f"SMin{next(_numbers):030d}",
                received_at=now,
            )
            received = receive(session, inbound, now)
        assert received.message_id is not None
        handle_safely(self.sessions, received.message_id, self.clock)
        asyncio.run(self.dispatcher.drain())
        return received.message_id

    def sent_keys(self, session: Session, after: int = 0) -> list[str]:
        return list(
            session.scalars(
                select(Message.template_key)
                .where(Message.tenant_id == self.tenant_id, Message.direction == Direction.OUTBOUND, Message.id > after)
                .order_by(Message.id)
            )
        )

    def tasks(self, session: Session) -> list[Task]:
        return list(session.scalars(select(Task).where(Task.tenant_id == self.tenant_id).order_by(Task.id)))

    def state(self, session: Session) -> ConversationState:
        state = session.get(ConversationState, self.tenant_id)
        assert state is not None
        return state


@pytest.mark.parametrize("language", LANGUAGES)
def test_menu_help_and_meeting_booking(sessions: sessionmaker[Session], language: str) -> None:
    clock = Clock()
    with transaction(sessions) as session:
        helped = tenant_with_case(session, language, "T-help")
        booker = tenant_with_case(session, language, "T-meet")
        send_question(session, helped, "arrears_first_reminder", NOW)
        send_question(session, booker, "arrears_help_offer", NOW)
        slot_ids = publish_slots(session)
        helped_id, booker_id = helped.id, booker.id

    help_chat = Conversation(sessions, clock, helped_id)
    help_chat.say("1")
    with sessions() as session:
        tasks = help_chat.tasks(session)
        assert [t.kind for t in tasks] == [TaskKind.HELP_REQUEST]
        assert tasks[0].due_at is not None and tasks[0].due_at > clock.now
        assert help_chat.sent_keys(session)[-1] == "help_acknowledged"
        reply = session.scalars(select(Message).where(Message.template_key == "help_acknowledged")).one()
        assert reply.language == language and reply.tenant_id == helped_id

    meet_chat = Conversation(sessions, clock, booker_id)
    meet_chat.say(PHRASES[language]["meeting"])
    with sessions() as session:
        assert meet_chat.sent_keys(session)[-1] == "meeting_offer"
        offer = session.scalars(select(OutboxItem).where(OutboxItem.template_key == "meeting_offer")).one()
        assert [b["payload"] for b in offer.values["_buttons"]] == ["1", "2", "3"]
        state = meet_chat.state(session)
        assert state.awaiting is Awaiting.SLOT and state.context["offered_slot_ids"] == slot_ids[:3]

    meet_chat.say("2")
    with sessions() as session:
        meeting = session.scalars(select(Meeting).where(Meeting.tenant_id == booker_id)).one()
        assert meeting.slot_id == slot_ids[1] and meeting.booked_via is Channel.SMS
        assert not meeting.include_social_services
        assert session.get(MeetingSlot, slot_ids[1]).status is MeetingSlotStatus.BOOKED
        # Booked, then (no consent yet) asked whether social services may join.
        assert meet_chat.sent_keys(session)[-2:] == ["meeting_booked", "consent_request"]
        assert meet_chat.state(session).awaiting is Awaiting.CONSENT


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_explained_given_with_evidence_then_withdrawn(sessions: sessionmaker[Session], language: str) -> None:
    clock = Clock()
    with transaction(sessions) as session:
        tenant = tenant_with_case(session, language, "T-consent")
        send_question(session, tenant, "consent_request", NOW)
        tenant_id = tenant.id
    chat = Conversation(sessions, clock, tenant_id)

    chat.say(PHRASES[language]["question"])
    with sessions() as session:
        assert chat.sent_keys(session)[-1] == "consent_explanation"
        assert session.scalars(select(Consent)).all() == []
        explanation = session.scalars(
            select(Message).where(Message.template_key == "consent_explanation")
        ).one()

    yes_id = chat.say(PHRASES[language]["yes"])
    with sessions() as session:
        consent = session.scalars(select(Consent).where(Consent.tenant_id == tenant_id)).one()
        assert consent.status is ConsentStatus.GIVEN
        assert consent.text_sha256 == hashlib.sha256(explanation.body.encode()).hexdigest()
        assert consent.template_key == "consent_explanation" and consent.language == language
        assert consent.captured_message_id == yes_id and consent.captured_channel is Channel.SMS
        assert consent.valid_from == clock.now and consent.expires_at > clock.now + timedelta(days=300)
        assert consent.municipality_id == session.get(Tenant, tenant_id).municipality_id
        assert consent.counterparty and consent.purpose and consent.data_categories
        assert chat.sent_keys(session)[-1] == "consent_recorded"

    chat.say(WITHDRAW[language])
    with sessions() as session:
        consent = session.scalars(select(Consent).where(Consent.tenant_id == tenant_id)).one()
        assert consent.status is ConsentStatus.WITHDRAWN and consent.withdrawn_at == clock.now
        assert TaskKind.CONSENT_WITHDRAWN in [t.kind for t in chat.tasks(session)]
        assert chat.sent_keys(session)[-1] == "consent_withdrawn"


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_refused_stop_and_urgent(sessions: sessionmaker[Session], language: str) -> None:
    clock = Clock()
    with transaction(sessions) as session:
        refuser = tenant_with_case(session, language, "T-no")
        stopper = tenant_with_case(session, language, "T-stop")
        scared = tenant_with_case(session, language, "T-urgent")
        send_question(session, refuser, "consent_request", NOW)
        send_question(session, stopper, "arrears_first_reminder", NOW)
        ids = refuser.id, stopper.id, scared.id
    refuse_chat, stop_chat, urgent_chat = (Conversation(sessions, clock, i) for i in ids)

    refuse_chat.say(PHRASES[language]["no"])
    stop_chat.say(STOP[language])
    urgent_chat.say(PHRASES[language]["urgent"])

    with sessions() as session:
        decision = session.scalars(select(Consent).where(Consent.tenant_id == ids[0])).one()
        assert decision.status is ConsentStatus.REFUSED and decision.text_sha256
        assert refuse_chat.sent_keys(session)[-1] == "consent_refused"

        point = session.scalars(select(ContactPoint).where(ContactPoint.tenant_id == ids[1])).one()
        assert point.opted_out and point.opt_out_source == "tenant_reply"
        assert stop_chat.sent_keys(session)[-1] == "opted_out"  # the one confirmation still goes

        tasks = urgent_chat.tasks(session)
        assert [(t.kind, t.priority) for t in tasks] == [(TaskKind.URGENT, 0)]
        assert urgent_chat.sent_keys(session) == ["urgent_acknowledged"]

    # After STOP nothing more reaches the tenant by SMS: a staff reply is not sent, a person is told.
    with transaction(sessions) as session:
        session.add(
            OutboxItem(
                dedupe_key="staff:after-stop", kind=OutboxKind.STAFF, tenant_id=ids[1], body="Hej!",
                channel_order=["sms"], status=OutboxStatus.PENDING, due_at=clock.now, created_at=clock.now,
            )
        )
    asyncio.run(stop_chat.dispatcher.drain())
    with sessions() as session:
        assert stop_chat.sent_keys(session)[-1] == "opted_out"
        assert TaskKind.REACH_IN_PERSON in [t.kind for t in stop_chat.tasks(session)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reply_in_another_language_switches_the_conversation(
    sessions: sessionmaker[Session], language: str
) -> None:
    clock = Clock()
    known = "en" if language == "sv" else "sv"
    with transaction(sessions) as session:
        tenant = tenant_with_case(session, known, "T-switch")
        send_question(session, tenant, "arrears_first_reminder", NOW)
        tenant_id = tenant.id
    chat = Conversation(sessions, clock, tenant_id)

    chat.say(PHRASES[language]["switch"])
    with sessions() as session:
        assert session.get(Tenant, tenant_id).preferred_language == language
        assert chat.state(session).language == language
        reply = session.scalars(
            select(Message).where(Message.tenant_id == tenant_id, Message.direction == Direction.OUTBOUND)
            .order_by(Message.id.desc()).limit(1)
        ).one()
        assert reply.template_key == "payment_acknowledged" and reply.language == language
        task = next(t for t in chat.tasks(session) if t.kind is TaskKind.VERIFY_PAYMENT)
        assert any(language in note.body for note in task.notes)


def test_processing_the_same_inbound_twice_changes_nothing(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    with transaction(sessions) as session:
        tenant = tenant_with_case(session, "sv", "T-twice")
        send_question(session, tenant, "arrears_first_reminder", NOW)
        tenant_id = tenant.id
    message_id = Conversation(sessions, clock, tenant_id).say("1")

    def counts() -> tuple[int, int]:
        with sessions() as session:
            return (
                len(session.scalars(select(Task).where(Task.tenant_id == tenant_id)).all()),
                len(session.scalars(select(OutboxItem).where(OutboxItem.tenant_id == tenant_id)).all()),
            )

    before = counts()
    with transaction(sessions) as session:
        assert process_inbound(session, message_id, clock.tick()) is None
    handle_safely(sessions, message_id, clock)
    assert process_unhandled(sessions, clock) == 0
    assert counts() == before == (1, 2)


def test_a_slot_taken_meanwhile_is_not_confirmed(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    with transaction(sessions) as session:
        tenant = tenant_with_case(session, "sv", "T-late")
        send_question(session, tenant, "arrears_first_reminder", NOW)
        slot_ids = publish_slots(session, 3)
        tenant_id = tenant.id
    chat = Conversation(sessions, clock, tenant_id)
    chat.say("2")  # menu: meeting
    with transaction(sessions) as session:  # another tenant's booking takes the first slot meanwhile
        other = tenant_with_case(session, "sv", "T-other")
        session.get(MeetingSlot, slot_ids[0]).status = MeetingSlotStatus.BOOKED
        session.add(Meeting(slot_id=slot_ids[0], tenant_id=other.id, status="booked", booked_at=clock.now))
    chat.say("1")
    with sessions() as session:
        assert session.scalars(select(Meeting).where(Meeting.tenant_id == tenant_id)).all() == []
        assert "meeting_booked" not in chat.sent_keys(session)


def test_a_lapsed_question_reads_the_reply_without_context(sessions: sessionmaker[Session]) -> None:
    clock = Clock()
    with transaction(sessions) as session:
        tenant = tenant_with_case(session, "sv", "T-lapse")
        send_question(session, tenant, "consent_request", NOW)
        tenant_id = tenant.id
    clock.tick(60 * 24 * 8)  # eight days later the consent question has lapsed
    chat = Conversation(sessions, clock, tenant_id)
    chat.say("ja")
    with sessions() as session:
        assert session.scalars(select(Consent)).all() == []  # a late "ja" is never consent


def test_an_unknown_sender_gets_no_dialogue(sessions: sessionmaker[Session]) -> None:
    now = NOW
    with transaction(sessions) as session:
        inbound = Inbound(
            channel=Channel.SMS, address="+46709999999", text="1", provider_id="SMunknown", received_at=now
        )
        message_id = receive(session, inbound, now).message_id
    assert message_id is not None
    handle_safely(sessions, message_id, lambda: now)
    with sessions() as session:
        assert session.get(Message, message_id).handled_at == now
        assert session.scalars(select(OutboxItem)).all() == []


def test_the_host_refuses_to_book_a_slot_booked_since_the_facts_were_read(sessions: sessionmaker[Session]) -> None:
    """The race the dialogue cannot see: its facts said free, another booking won in between."""
    from bot.conversation_events import apply_events
    from bot.dialogue import BookMeeting, Facts, Reply

    with transaction(sessions) as session:
        tenant = tenant_with_case(session, "sv", "T-race")
        other = tenant_with_case(session, "sv", "T-winner")
        (slot_id,) = publish_slots(session, 1)
        session.get(MeetingSlot, slot_id).status = MeetingSlotStatus.BOOKED
        session.add(Meeting(slot_id=slot_id, tenant_id=other.id, status="booked", booked_at=NOW))
        inbound = Inbound(channel=Channel.SMS, address=tenant.contact_points[0].address, text="1",
                          provider_id="SMrace", received_at=NOW)
        message = session.get(Message, receive(session, inbound, NOW).message_id)
        facts = Facts(language="sv", channel=Channel.SMS, call_by=NOW + timedelta(days=1))
        events = [BookMeeting(slot_id, False, Channel.SMS), Reply("meeting_booked", "sv", {})]
        apply_events(session, tenant, message, facts, events, NOW)
        tenant_id = tenant.id
    with sessions() as session:
        assert session.scalars(select(Meeting).where(Meeting.tenant_id == tenant_id)).all() == []
        keys = session.scalars(select(OutboxItem.template_key).where(OutboxItem.tenant_id == tenant_id)).all()
        assert keys == ["help_acknowledged"]
        assert [t.kind for t in session.scalars(select(Task).where(Task.tenant_id == tenant_id))] == [
            TaskKind.MEETING_REQUEST
        ]
