"""The one small interface every channel offers, and the plain data that crosses it.

The dispatcher only needs three answers from a send: the provider's id, "try again later"
(:class:`TransientError`, maybe with a retry-after), or "this address will not work"
(:class:`PermanentAddressError`, which may also mean the tenant opted out at the provider).
A :class:`ConfigurationError` means our credentials are wrong: retrying will not help and no
address is to blame, so a person must look.

Inbound requests become :class:`Inbound` messages or :class:`StatusUpdate`\\ s; a request that
fails authentication raises :class:`ForgedRequest` before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from scheduler.outbound import (  # noqa: F401 - the send contract, re-exported for the channels
    Button,
    ChannelError,
    ConfigurationError,
    PermanentAddressError,
    SentMessage,
    TransientError,
)
from storage.models import Channel as ChannelName
from storage.models import MessageStatus


@dataclass(frozen=True)
class Inbound:
    """A message from a tenant as the provider delivered it.

    ``provider_id`` is unique per channel (Twilio's ``MessageSid``; for Telegram chat and message
    id) and makes storing idempotent. ``event_id`` names the webhook delivery itself (Telegram's
    ``update_id``). ``payload`` carries a pressed button's data; ``opt_out``/``opt_in`` carry a
    provider's own keyword handling (Twilio Advanced Opt-Out), which we mirror.
    """

    channel: ChannelName
    address: str
    text: str
    provider_id: str
    event_id: str | None = None
    payload: str | None = None
    received_at: datetime | None = None
    start_code: str | None = None
    callback_query_id: str | None = None
    sender_language: str | None = None
    attachment: str | None = None
    opt_out: bool = False
    opt_in: bool = False


@dataclass(frozen=True)
class StatusUpdate:
    channel: ChannelName
    provider_id: str
    status: MessageStatus
    error_code: str | None = None
    event_id: str | None = None


class ForgedRequest(Exception):
    """A webhook request whose signature or secret does not check out."""


@dataclass
class ParsedRequest:
    inbound: list[Inbound] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)


class Channel(Protocol):
    name: ChannelName

    async def send(self, to: str, text: str, buttons: tuple[Button, ...] = ()) -> SentMessage: ...
