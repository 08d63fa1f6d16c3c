"""The conversation state the dialogue reads and returns, and the facts the host looks up for it.

``ConversationState`` mirrors the ``conversation_states`` row (awaiting, context, language,
expires_at); ``context`` stays JSON-serialisable (ints and strings only) so the host stores it as
it is. ``Facts`` is everything else the dialogue may need, filled by the host from the database
before calling :func:`bot.dialogue.handle`; the dialogue never looks anything up itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from storage.models.enums import Awaiting, Channel

__all__ = ["CaseFacts", "ConversationState", "Facts", "Slot"]


@dataclass(frozen=True, slots=True)
class ConversationState:
    """What the last message asked the tenant, in which language, until when.

    ``context`` keys used by the flows: ``offered_slot_ids`` (list of int, in the order shown),
    ``consent_template`` (the last consent text shown: ``consent_request`` or
    ``consent_explanation``), ``asked_again`` (1 once an unclear consent answer was asked again).
    ``expires_at`` is when the question lapses; after it a reply is read in ``nothing`` context.
    """

    awaiting: Awaiting = Awaiting.NOTHING
    context: Mapping[str, Any] = field(default_factory=dict)
    language: str | None = None
    expires_at: datetime | None = None

    def active(self, now: datetime) -> Awaiting:
        """The context to read a reply in at ``now``: ``nothing`` once the question has lapsed."""
        if self.expires_at is not None and now >= self.expires_at:
            return Awaiting.NOTHING
        return self.awaiting


@dataclass(frozen=True, slots=True)
class Slot:
    """A free meeting slot from staff availability."""

    id: int
    starts_at: datetime
    place: str


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """The tenant's open case: what is owed (öre) and by when."""

    id: int
    amount_ore: int
    deadline: date | datetime | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """What the host knows that the dialogue needs, for one inbound message.

    * ``language``: the tenant's known language (catalogue code).
    * ``channel``: the channel the reply came on; ``opted_out``: whether that channel is opted out.
    * ``case``: the open case, or None. ``free_slots``: free meeting slots, soonest first (the
      flows offer up to three; the host may pass more so a taken slot can be replaced).
    * ``consent_valid``: whether a valid consent exists; ``municipality``: the tenant's
      municipality name (the consent counterparty), or None when unknown.
    * ``consent_text_shown``: the exact rendered text of the last consent request/explanation
      sent, if the host has it (its SHA-256 becomes evidence in :class:`RecordConsent`).
    * ``inbound_message_id``: the stored id of this inbound message (consent evidence).
    * ``call_by``: when a person will have phoned at the latest (next working day, computed by
      the host with the scheduler's holiday calendar). If None, the dialogue uses
      ``now + HELP_DUE`` skipping Saturdays and Sundays only.
    """

    language: str
    channel: Channel
    case: CaseFacts | None = None
    free_slots: tuple[Slot, ...] = ()
    consent_valid: bool = False
    municipality: str | None = None
    opted_out: bool = False
    consent_text_shown: str | None = None
    inbound_message_id: int | None = None
    call_by: datetime | None = None
