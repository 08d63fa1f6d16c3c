"""Whole conversations through the pure core, in every catalogue language (no database).

Every reply the flows emit is rendered with ``messages.render.render`` to prove the template key
exists and the values match its declared placeholders exactly.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.dialogue import (
    BookMeeting,
    CaseFacts,
    ConversationState,
    Facts,
    OfferSlots,
    OpenTask,
    OptIn,
    OptOut,
    Outcome,
    PauseReminders,
    RecordConsent,
    RefuseConsent,
    Reply,
    RevokeConsent,
    Slot,
    SwitchLanguage,
    handle,
    state_after_sending,
)
from messages.render import render
from storage.models.enums import Awaiting, Channel, TaskKind

sys.path.insert(0, str(Path(__file__).parent))
from conversation_phrases import PHRASES  # noqa: E402

LANGUAGES = tuple(PHRASES)
NOW = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)  # a Monday
SLOTS = (
    Slot(41, NOW + timedelta(days=1, hours=1), "Kvarngatan 12, Norrköping"),
    Slot(42, NOW + timedelta(days=2, hours=4), "Kvarngatan 12, Norrköping"),
    Slot(45, NOW + timedelta(days=3), "Kvarngatan 12, Norrköping"),
    Slot(46, NOW + timedelta(days=4), "Kvarngatan 12, Norrköping"),
)


def facts(language: str, **changes: object) -> Facts:
    base = Facts(
        language=language,
        channel=Channel.SMS,
        case=CaseFacts(7, 2345650),
        free_slots=SLOTS,
        consent_valid=False,
        municipality="Norrköping",
        inbound_message_id=812,
    )
    return Facts(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes})


def menu(language: str) -> ConversationState:
    return state_after_sending("arrears_first_reminder", language, NOW - timedelta(hours=2))


def step(state: ConversationState, text: str, f: Facts, now: datetime = NOW) -> Outcome:
    outcome = handle(state, text, f, now)
    for reply in outcome.of(Reply):
        rendered = render(reply.template_key, reply.language, reply.values)
        assert rendered.text
    return outcome


def keys(outcome: Outcome) -> list[str]:
    return [r.template_key for r in outcome.of(Reply)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_menu_help(language: str) -> None:
    out = step(menu(language), PHRASES[language]["help"], facts(language))
    assert keys(out) == ["help_acknowledged"]
    [task] = out.of(OpenTask)
    assert task.task_kind is TaskKind.HELP_REQUEST and task.priority == 20
    assert task.due_at == out.of(Reply)[0].values["call_by"]
    assert out.next_state.awaiting is Awaiting.NOTHING


@pytest.mark.parametrize("language", LANGUAGES)
def test_menu_digit_help(language: str) -> None:
    out = step(menu(language), "1", facts(language))
    assert keys(out) == ["help_acknowledged"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_menu_meeting_slot_booked(language: str) -> None:
    f = facts(language)
    offer = step(menu(language), PHRASES[language]["meeting"], f)
    assert keys(offer) == ["meeting_offer"]
    assert offer.of(OfferSlots)[0].slot_ids == (41, 42, 45)
    assert [b.payload for b in offer.of(Reply)[0].buttons] == ["1", "2", "3"]
    assert offer.next_state.awaiting is Awaiting.SLOT

    booked = step(offer.next_state, "2", f, NOW + timedelta(minutes=5))
    [booking] = booked.of(BookMeeting)
    assert booking.slot_id == 42 and booking.include_social_services is False
    # No consent yet: booked, then asked for consent so social services can join.
    assert keys(booked) == ["meeting_booked", "consent_request"]
    assert booked.next_state.awaiting is Awaiting.CONSENT


def test_booking_with_consent_includes_social_services_and_asks_nothing_more() -> None:
    f = facts("sv", consent_valid=True)
    offer = step(menu("sv"), "2", f)
    booked = step(offer.next_state, "den första", f)
    assert booked.of(BookMeeting)[0].include_social_services is True
    assert keys(booked) == ["meeting_booked"] and booked.next_state.awaiting is Awaiting.NOTHING


def test_no_slot_fits_is_a_task_for_staff() -> None:
    f = facts("sv")
    offer = step(menu("sv"), "2", f)
    out = step(offer.next_state, "ingen av tiderna passar", f)
    assert [t.task_kind for t in out.of(OpenTask)] == [TaskKind.MEETING_REQUEST]
    assert keys(out) == ["help_acknowledged"]


def test_no_free_slots_is_a_task_for_staff() -> None:
    out = step(menu("sv"), "2", facts("sv", free_slots=()))
    assert [t.task_kind for t in out.of(OpenTask)] == [TaskKind.MEETING_REQUEST]


def test_a_slot_taken_meanwhile_is_offered_again() -> None:
    offer = step(menu("sv"), "2", facts("sv"))
    out = step(offer.next_state, "1", facts("sv", free_slots=SLOTS[1:]))
    assert not out.of(BookMeeting) and keys(out) == ["meeting_offer"]
    assert out.of(OfferSlots)[0].slot_ids == (42, 45, 46)


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_explained_yes_recorded_then_withdrawn(language: str) -> None:
    f = facts(language, consent_text_shown="Får vi dela …")
    asked = state_after_sending("consent_request", language, NOW - timedelta(hours=1))
    explained = step(asked, PHRASES[language]["question"], f)
    assert keys(explained) == ["consent_explanation"] and not explained.of(RecordConsent)
    assert explained.next_state.awaiting is Awaiting.CONSENT

    given = step(explained.next_state, PHRASES[language]["yes"], f)
    [record] = given.of(RecordConsent)
    assert record.template_key == "consent_explanation" and record.template_language == language
    assert record.text_sha256 is not None and len(record.text_sha256) == 64
    assert record.inbound_message_id == 812 and record.channel is Channel.SMS
    assert record.valid_from == NOW and record.valid_until.isoformat() == "2026-11-30"
    assert "health" not in record.data_categories
    assert keys(given) == ["consent_recorded"]

    from messages.catalogue import language as catalogue_language

    withdraw_word = catalogue_language(language).reply_words["withdraw"]
    withdrawn = step(given.next_state, withdraw_word, facts(language, consent_valid=True), NOW + timedelta(days=30))
    assert withdrawn.of(RevokeConsent), withdraw_word
    assert keys(withdrawn) == ["consent_withdrawn"]
    assert [t.task_kind for t in withdrawn.of(OpenTask)] == [TaskKind.CONSENT_WITHDRAWN]


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_no(language: str) -> None:
    asked = state_after_sending("consent_request", language, NOW)
    out = step(asked, PHRASES[language]["no"], facts(language))
    assert out.of(RefuseConsent) and not out.of(RecordConsent)
    assert keys(out) == ["consent_refused"]
    assert out.next_state.awaiting is Awaiting.MENU


@pytest.mark.parametrize("text", ["kanske", "ok", "✅", "ja men jag vet inte", "jag samtycker inte", "ja?"])
def test_anything_short_of_an_explicit_yes_records_no_consent(text: str) -> None:
    state = state_after_sending("consent_request", "sv", NOW)
    for _ in range(3):
        out = step(state, text, facts("sv"))
        assert not out.of(RecordConsent)
        state = out.next_state


@pytest.mark.parametrize("language", LANGUAGES)
def test_stop_in_each_language(language: str) -> None:
    from messages.catalogue import language as catalogue_language

    stop = catalogue_language(language).reply_words["stop"]
    out = step(menu(language), stop, facts(language))
    assert out.of(OptOut) == [OptOut(Channel.SMS)]
    assert keys(out) == ["opted_out"]
    again = step(out.next_state, stop, facts(language, opted_out=True))
    assert again.events == ()  # confirmed once only
    start = step(again.next_state, catalogue_language(language).reply_words["start"], facts(language, opted_out=True))
    assert start.of(OptIn) == [OptIn(Channel.SMS)] and keys(start) == ["opted_in"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("awaiting", ["menu", "consent", "slot", "nothing"])
def test_urgent_in_each_language_and_context(language: str, awaiting: str) -> None:
    state = ConversationState(Awaiting(awaiting), {"offered_slot_ids": [41]}, language, NOW + timedelta(days=1))
    out = step(state, PHRASES[language]["urgent"], facts(language))
    assert keys(out) == ["urgent_acknowledged"]
    [task] = out.of(OpenTask)
    assert task.task_kind is TaskKind.URGENT and task.priority == 0 and task.due_at == NOW


@pytest.mark.parametrize("language", LANGUAGES)
def test_paid_pauses_reminders(language: str) -> None:
    out = step(menu(language), PHRASES[language]["paid"], facts(language))
    assert keys(out) == ["payment_acknowledged"]
    assert [t.task_kind for t in out.of(OpenTask)] == [TaskKind.VERIFY_PAYMENT]
    assert out.of(PauseReminders) == [PauseReminders(7, NOW + timedelta(days=5))]


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "sv"])
def test_a_reply_in_another_language_switches_the_conversation(language: str) -> None:
    out = step(menu("sv"), PHRASES[language]["switch"], facts("sv"))
    [switch] = out.of(SwitchLanguage)
    assert switch.code == language and switch.previous == "sv"
    assert {r.language for r in out.of(Reply)} == {language}
    assert all(any(language in note for note in t.notes) for t in out.of(OpenTask))
    assert out.next_state.language == language


def test_ack_changes_nothing() -> None:
    state = menu("sv")
    out = step(state, "tack 👍", facts("sv"))
    assert out.events == () and out.next_state == state


def test_other_is_a_task_and_a_promise() -> None:
    out = step(menu("sv"), "hur gör jag med andrahandsuthyrning", facts("sv"))
    assert [t.task_kind for t in out.of(OpenTask)] == [TaskKind.REPLY_NEEDED]
    assert "andrahandsuthyrning" in out.of(OpenTask)[0].summary
    assert keys(out) == ["unknown_reply_acknowledged"] and out.next_state.awaiting is Awaiting.MENU


def test_a_lapsed_question_is_read_in_nothing_context() -> None:
    offer = step(menu("sv"), "2", facts("sv"))
    late = step(offer.next_state, "2", facts("sv"), NOW + timedelta(days=30))
    assert not late.of(BookMeeting)
    assert late.understanding.intent.value == "meeting"  # the menu digit, not slot 2


def test_events_are_plain_json() -> None:
    out = step(menu("sv"), "2", facts("sv"))
    import json

    assert json.dumps([e.as_json() for e in out.events])
