"""The pure dialogue core: what a tenant's reply means, and what the bot does about it.

Public API::

    understand(text, awaiting="nothing", language=None) -> Understanding
    handle(state, inbound, facts, now) -> Outcome(events, next_state, understanding)
    state_after_sending(template_key, language, now, context=None) -> ConversationState

No database, network, clock or file writes: the host (``bot.conversation``) passes the state, the
facts and ``now`` in and applies the returned events (:mod:`bot.dialogue.events`) in one
transaction. Words per language are data in ``bot/dialogue/words/*.toml``.
"""

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
from bot.dialogue.flows import PRIORITY, STATE_TTL, Inbound, Outcome, handle, state_after_sending
from bot.dialogue.state import CaseFacts, ConversationState, Facts, Slot
from bot.dialogue.understand import Intent, Understanding, understand

__all__ = [
    "PRIORITY",
    "STATE_TTL",
    "BookMeeting",
    "Button",
    "CaseFacts",
    "ConversationState",
    "Event",
    "Facts",
    "Inbound",
    "Intent",
    "OfferSlots",
    "OpenTask",
    "OptIn",
    "OptOut",
    "Outcome",
    "PauseReminders",
    "RecordConsent",
    "RefuseConsent",
    "Reply",
    "RevokeConsent",
    "Slot",
    "SwitchLanguage",
    "Understanding",
    "handle",
    "state_after_sending",
    "understand",
]
