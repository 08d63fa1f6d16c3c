"""The conversation: ``handle(state, inbound, facts, now) -> Outcome(events, next_state)``.

Pure: it reads the state, the reply, the facts the host looked up and the time it is given, and
returns events and the next state. Nothing is stored, sent or looked up here.

The states (``Awaiting``) and what a reply does in each, in the order checked:

==============  ==========================================================================
any state       ``urgent`` → emergency numbers now, an ``urgent`` task at the top of the inbox.
                ``opt_out`` → opt out of this channel, confirmed once on it.
                ``opt_in`` → opt in again, confirmed.
                withdrawal → revoke a valid consent, confirm, tell staff.
``consent``     ``yes`` → record the consent with its evidence, confirm (with how to withdraw).
                ``no`` → record the refusal, say help is still there (→ ``menu``).
                a question → the explanation again (stays ``consent``).
                "ok", "maybe", "ja men…", a typo'd yes → ask again once; then to a person.
``slot``        a number → book that slot, confirm; without consent, ask for it (→ ``consent``).
                ``no`` → "none fits": a task for staff and a promise of a call.
``menu``,       ``help`` → a ``help_request`` task, tell when a person calls.
``nothing``     ``meeting`` → offer up to three free slots (→ ``slot``); none free → task.
(and the rest)  ``paid`` → thank, a ``verify_payment`` task, pause reminders for five days.
                ``ack`` → nothing at all (the state is kept).
                anything else → a task with the text, "a person will answer" (→ ``menu``).
==============  ==========================================================================

A question lapses after :data:`STATE_TTL`; a reply after that is read in ``nothing`` context.
A reply confidently in another catalogue language switches the conversation to it
(:class:`SwitchLanguage`, and a note on any task opened).

Task priorities (lower first) and due times:

==================  ========  =============================================================
task                priority  due
==================  ========  =============================================================
urgent              0         now
consent_withdrawn   10        now (sharing must stop)
help_request        20        ``call_by``: next working day (host's holiday-aware time)
meeting_request     25        ``call_by``
verify_payment      30        two working days
reply_needed        30        ``call_by``
==================  ========  =============================================================
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Final, Protocol

from bot.dialogue.events import (
    BookMeeting,
    Button,
    Event,
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
from bot.dialogue.state import ConversationState, Facts, Slot
from bot.dialogue.understand import Intent, Understanding, understand
from bot.dialogue.vocabulary import LANGUAGES
from messages.catalogue import locale_for
from messages.formatting import STOCKHOLM, format_slots
from storage.models.enums import Awaiting, TaskKind

__all__ = ["PRIORITY", "Inbound", "Outcome", "handle", "state_after_sending"]

STATE_TTL: Final = timedelta(days=7)
"""How long a question waits for its answer."""

PAYMENT_PAUSE: Final = timedelta(days=5)
"""Reminders wait this long after "I have paid", unless staff confirm the payment earlier."""

CONSENT_MONTHS: Final = 12
"""A consent lasts twelve months, as the consent texts say."""

MAX_SLOTS: Final = 3
SWITCH_CONFIDENCE: Final = 0.9
"""The detector must be this sure before the conversation changes language."""

HELP_DUE: Final = 1
"""Working days until a person calls, when the host did not compute ``Facts.call_by``."""

PRIORITY: Final[Mapping[TaskKind, int]] = {
    TaskKind.URGENT: 0,
    TaskKind.CONSENT_WITHDRAWN: 10,
    TaskKind.HELP_REQUEST: 20,
    TaskKind.MEETING_REQUEST: 25,
    TaskKind.VERIFY_PAYMENT: 30,
    TaskKind.REPLY_NEEDED: 30,
}

CONSENT_SCOPE: Final = {
    "direction": "both",
    "data_categories": ("rent_debt", "contact_details"),
    "purpose": "Let the landlord and the municipality's social services talk about the tenant's rent "
    "debt and how to reach them, so that social services can offer advice and help to keep the home.",
}
"""What the consent texts ask for: both ways, rent debt and contact details only (never health)."""


class Inbound(Protocol):
    """What the dialogue reads of an inbound message (``bot.channels.base.Inbound`` fits)."""

    @property
    def text(self) -> str: ...

    @property
    def payload(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """The events to apply (in one transaction) and the state to store."""

    events: tuple[Event, ...]
    next_state: ConversationState
    understanding: Understanding

    def of(self, kind: type[Event]) -> list[Any]:
        """The events of one kind, in order (for hosts and tests)."""
        return [e for e in self.events if isinstance(e, kind)]


# --- time --------------------------------------------------------------------------------------


def add_working_days(moment: datetime, days: int) -> datetime:
    """``moment`` plus ``days`` weekdays, in Stockholm time (weekends skipped, not holidays)."""
    local = moment.astimezone(STOCKHOLM)
    while days > 0:
        local += timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    while local.weekday() >= 5:
        local += timedelta(days=1)
    return local


def _consent_valid_until(now: datetime) -> date:
    today = now.astimezone(STOCKHOLM).date()
    year, month = divmod(today.month - 1 + CONSENT_MONTHS, 12)
    year += today.year
    month += 1
    for day in range(today.day, 0, -1):
        try:
            return date(year, month, day) - timedelta(days=1)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# --- one turn of the conversation --------------------------------------------------------------


@dataclass
class _Turn:
    state: ConversationState
    awaiting: Awaiting
    context: dict[str, Any]
    facts: Facts
    now: datetime
    text: str
    language: str
    understanding: Understanding
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # building blocks

    def reply(self, key: str, values: Mapping[str, Any] | None = None, buttons: tuple[Button, ...] = ()) -> None:
        self.events.append(Reply(key, self.language, dict(values or {}), buttons))

    def task(self, kind: TaskKind, summary: str, due_at: datetime | None = None) -> None:
        self.events.append(OpenTask(kind, PRIORITY[kind], summary, due_at or self.now, tuple(self.notes)))

    def call_by(self) -> datetime:
        return self.facts.call_by or add_working_days(self.now, HELP_DUE)

    def quote(self) -> str:
        return f"«{self.text.strip()}» ({self.facts.channel.value}, {self.language})"

    def state_(self, awaiting: Awaiting, context: Mapping[str, Any] | None = None) -> ConversationState:
        if awaiting is Awaiting.NOTHING:
            return ConversationState(Awaiting.NOTHING, {}, self.language, None)
        return ConversationState(awaiting, dict(context or {}), self.language, self.now + STATE_TTL)

    def keep(self) -> ConversationState:
        """The state as it was (an acknowledgement changes nothing), in the current language."""
        if self.awaiting is not self.state.awaiting:
            return ConversationState(Awaiting.NOTHING, {}, self.language, None)
        return replace(self.state, language=self.language)

    # flows shared by every state

    def urgent(self) -> ConversationState:
        self.reply("urgent_acknowledged")
        self.task(TaskKind.URGENT, f"URGENT – read now and call the tenant: {self.quote()}", self.now)
        return self.state_(Awaiting.NOTHING)

    def opt_out(self) -> ConversationState:
        if not self.facts.opted_out:
            self.events.append(OptOut(self.facts.channel))
            # The one message allowed after an opt-out: its confirmation, once, on this channel.
            self.reply("opted_out")
        return self.state_(Awaiting.NOTHING)

    def opt_in(self) -> ConversationState:
        if self.facts.opted_out:
            self.events.append(OptIn(self.facts.channel))
        self.reply("opted_in")
        return self.state_(Awaiting.NOTHING)

    def withdraw(self) -> ConversationState:
        municipality = self.facts.municipality
        if self.facts.consent_valid and municipality:
            self.events.append(
                RevokeConsent(
                    municipality, self.facts.channel.value, self.facts.inbound_message_id, self.text, self.now
                )
            )
            self.reply("consent_withdrawn", {"municipality": municipality})
            self.task(
                TaskKind.CONSENT_WITHDRAWN,
                f"Consent withdrawn: stop sharing with social services in {municipality}. {self.quote()}",
                self.now,
            )
            return self.state_(Awaiting.NOTHING)
        if self.awaiting is Awaiting.CONSENT:
            return self.refuse()
        return self.other("Tenant asked to withdraw a consent, but none is valid")

    def help(self) -> ConversationState:
        call_by = self.call_by()
        self.task(TaskKind.HELP_REQUEST, f"Help requested – call the tenant: {self.quote()}", call_by)
        self.reply("help_acknowledged", {"call_by": call_by})
        return self.state_(Awaiting.NOTHING)

    def free_slots(self, exclude: set[int] | None = None) -> list[Slot]:
        slots = sorted((s for s in self.facts.free_slots if s.starts_at > self.now), key=lambda s: s.starts_at)
        return [s for s in slots if s.id not in (exclude or set())][:MAX_SLOTS]

    def offer_meeting(self, slots: list[Slot] | None = None) -> ConversationState:
        slots = self.free_slots() if slots is None else slots
        if not slots:
            call_by = self.call_by()
            self.task(TaskKind.MEETING_REQUEST, f"Meeting wanted, no free slot to offer: {self.quote()}", call_by)
            self.reply("help_acknowledged", {"call_by": call_by})
            return self.state_(Awaiting.NOTHING)
        times = [s.starts_at for s in slots]
        labels = format_slots(times, locale_for(self.language)).split("\n")
        buttons = tuple(Button(label, str(i)) for i, label in enumerate(labels, start=1))
        ids = tuple(s.id for s in slots)
        self.events.append(OfferSlots(ids))
        self.reply("meeting_offer", {"slots": times}, buttons)
        return self.state_(Awaiting.SLOT, {"offered_slot_ids": list(ids)})

    def book(self, slot: Slot) -> ConversationState:
        self.events.append(BookMeeting(slot.id, self.facts.consent_valid, self.facts.channel))
        self.reply("meeting_booked", {"meeting_time": slot.starts_at, "meeting_place": slot.place})
        if not self.facts.consent_valid and self.facts.municipality:
            # Social services can join the meeting only with consent: offer it now.
            self.reply("consent_request", {"municipality": self.facts.municipality})
            return self.state_(Awaiting.CONSENT, {"consent_template": "consent_request"})
        return self.state_(Awaiting.NOTHING)

    def paid(self) -> ConversationState:
        self.reply("payment_acknowledged")
        case = self.facts.case
        what = f"case {case.id}, {case.amount_ore / 100:.2f} kr owed" if case else "no open case"
        self.task(
            TaskKind.VERIFY_PAYMENT,
            f"Tenant says they have paid ({what}): {self.quote()}",
            add_working_days(self.now, 2),
        )
        if case is not None:
            self.events.append(PauseReminders(case.id, self.now + PAYMENT_PAUSE))
        return self.state_(Awaiting.NOTHING)

    def other(self, why: str = "A reply the bot could not act on") -> ConversationState:
        self.task(TaskKind.REPLY_NEEDED, f"{why} – please answer: {self.quote()}", self.call_by())
        self.reply("unknown_reply_acknowledged")
        return self.state_(Awaiting.MENU)

    # consent

    def consent_evidence(self) -> tuple[str, str | None]:
        key = str(self.context.get("consent_template", "consent_request"))
        shown = self.facts.consent_text_shown
        digest = hashlib.sha256(shown.encode("utf-8")).hexdigest() if shown is not None else None
        return key, digest

    def record(self) -> ConversationState:
        municipality = self.facts.municipality
        if not municipality:
            return self.other("Consent given, but the tenant's municipality is unknown: record it by hand")
        key, digest = self.consent_evidence()
        valid_until = _consent_valid_until(self.now)
        self.events.append(
            RecordConsent(
                municipality=municipality,
                counterparty=f"socialtjänsten i {municipality}",
                direction=str(CONSENT_SCOPE["direction"]),
                data_categories=tuple(CONSENT_SCOPE["data_categories"]),
                purpose=str(CONSENT_SCOPE["purpose"]),
                template_key=key,
                template_language=self.state.language or self.facts.language,
                text_sha256=digest,
                channel=self.facts.channel,
                inbound_message_id=self.facts.inbound_message_id,
                reply_text=self.text,
                valid_from=self.now,
                valid_until=valid_until,
            )
        )
        self.reply("consent_recorded", {"municipality": municipality, "valid_until": valid_until})
        return self.state_(Awaiting.NOTHING)

    def refuse(self) -> ConversationState:
        key, _ = self.consent_evidence()
        self.events.append(
            RefuseConsent(
                self.facts.municipality or "",
                key,
                self.state.language or self.facts.language,
                self.facts.channel,
                self.facts.inbound_message_id,
                self.text,
            )
        )
        self.reply("consent_refused")
        return self.state_(Awaiting.MENU)

    def explain(self, asked_again: bool = False) -> ConversationState:
        if not self.facts.municipality:
            return self.other("Tenant asked about the consent; municipality unknown")
        self.reply("consent_explanation", {"municipality": self.facts.municipality})
        context = {**self.context, "consent_template": "consent_explanation"}
        if asked_again:
            context["asked_again"] = 1
        return self.state_(Awaiting.CONSENT, context)


def _by_intent(turn: _Turn) -> ConversationState:
    """What a reply means outside its question (and in ``menu`` / ``nothing`` context)."""
    intent = turn.understanding.intent
    if intent is Intent.HELP:
        return turn.help()
    if intent is Intent.MEETING:
        return turn.offer_meeting()
    if intent is Intent.PAID:
        return turn.paid()
    if intent is Intent.ACK and not turn.understanding.question:
        return turn.keep()
    return turn.other()


def _in_consent(turn: _Turn) -> ConversationState:
    u = turn.understanding
    if u.intent is Intent.YES:
        return turn.record()
    if u.intent is Intent.NO:
        return turn.refuse()
    if u.question:
        return turn.explain()
    if u.intent in (Intent.HELP, Intent.MEETING, Intent.PAID):
        return _by_intent(turn)
    if not turn.context.get("asked_again"):
        # "ok", "maybe", "ja men…", a yes with a typo: not a consent. Ask once more, plainly.
        return turn.explain(asked_again=True)
    state = turn.other("Unclear answer to the consent question (no consent recorded)")
    return turn.state_(Awaiting.CONSENT, turn.context) if state.awaiting is Awaiting.MENU else state


def _in_slot(turn: _Turn) -> ConversationState:
    u = turn.understanding
    offered = [int(i) for i in turn.context.get("offered_slot_ids", [])]
    if u.intent is Intent.CHOICE and u.choice is not None:
        if 1 <= u.choice <= len(offered):
            wanted = offered[u.choice - 1]
            slot = next((s for s in turn.facts.free_slots if s.id == wanted), None)
            if slot is not None:
                return turn.book(slot)
            return turn.offer_meeting(turn.free_slots())  # taken meanwhile: offer what is free now
        still = [s for s in turn.free_slots() if s.id in offered]
        return turn.offer_meeting(still or None)
    if u.intent is Intent.NO:
        call_by = turn.call_by()
        turn.task(TaskKind.MEETING_REQUEST, f"None of the offered meeting times fits: {turn.quote()}", call_by)
        turn.reply("help_acknowledged", {"call_by": call_by})
        return turn.state_(Awaiting.NOTHING)
    if u.intent is Intent.MEETING:
        return turn.offer_meeting()
    return _by_intent(turn)


def _switch_language(turn: _Turn) -> None:
    u = turn.understanding
    words = sum(1 for w in turn.text.split() if any(ch.isalpha() for ch in w))
    evidence = {e.split(":", 1)[0] for e in u.evidence} - {"common"}
    if (
        u.language in LANGUAGES
        and u.language != turn.language
        and u.language_confidence >= SWITCH_CONFIDENCE
        and (words >= 2 or evidence == {u.language})
    ):
        turn.events.append(SwitchLanguage(u.language, turn.language, round(u.language_confidence, 3)))
        turn.notes.append(f"Tenant wrote in {u.language} (was {turn.language}); replies now in {u.language}.")
        turn.language = u.language


def handle(state: ConversationState, inbound: Inbound | str, facts: Facts, now: datetime) -> Outcome:
    """One step of the conversation: read ``inbound`` in ``state`` and decide what happens.

    ``now`` must be an aware datetime (the host's clock). A pressed button's ``payload`` is read
    instead of the text. Returns the events for the host to apply and the state to store.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    text = inbound if isinstance(inbound, str) else (getattr(inbound, "payload", None) or inbound.text)
    awaiting = state.active(now)
    context = dict(state.context) if awaiting is state.awaiting else {}
    language = state.language or facts.language
    understanding = understand(text, awaiting, language)
    turn = _Turn(state, awaiting, context, facts, now, text, language, understanding)
    _switch_language(turn)

    u = understanding
    if u.intent is Intent.URGENT:
        next_state = turn.urgent()
    elif u.intent is Intent.OPT_OUT:
        next_state = turn.opt_out()
    elif u.intent is Intent.OPT_IN:
        next_state = turn.opt_in()
    elif u.withdraw:
        next_state = turn.withdraw()
    elif awaiting is Awaiting.CONSENT:
        next_state = _in_consent(turn)
    elif awaiting is Awaiting.SLOT:
        next_state = _in_slot(turn)
    else:
        next_state = _by_intent(turn)
    return Outcome(tuple(turn.events), next_state, understanding)


_ASKS: Final[Mapping[str, Awaiting]] = {
    "consent_request": Awaiting.CONSENT,
    "consent_explanation": Awaiting.CONSENT,
    "meeting_offer": Awaiting.SLOT,
    "menu": Awaiting.MENU,
    "arrears_first_reminder": Awaiting.MENU,
    "arrears_help_offer": Awaiting.MENU,
    "notice_served": Awaiting.MENU,
    "recovery_reminder": Awaiting.MENU,
    "recovery_final_reminder": Awaiting.MENU,
    "kronofogden_notice": Awaiting.MENU,
    "eviction_date_reminder": Awaiting.MENU,
    "unknown_reply_acknowledged": Awaiting.MENU,
    "consent_refused": Awaiting.MENU,
}


def state_after_sending(
    template_key: str, language: str, now: datetime, context: Mapping[str, Any] | None = None
) -> ConversationState:
    """The state to store after the host sends ``template_key`` outside a dialogue turn.

    Planned outreach asks for the menu digits, a consent request for yes/no. ``context`` may
    carry ``offered_slot_ids`` for a meeting offer staff sent. Other texts ask nothing.
    """
    awaiting = _ASKS.get(template_key, Awaiting.NOTHING)
    if awaiting is Awaiting.NOTHING:
        return ConversationState(Awaiting.NOTHING, {}, language, None)
    ctx = dict(context or {})
    if awaiting is Awaiting.CONSENT:
        ctx.setdefault("consent_template", template_key)
    return ConversationState(awaiting, ctx, language, now + STATE_TTL)
