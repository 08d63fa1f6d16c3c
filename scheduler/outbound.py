"""What the dispatcher needs from a channel: send a text, get a provider id or a clear error.

The dispatcher only needs three answers from a send: the provider's id, "try again later"
(:class:`TransientError`, maybe with a retry-after), or "this address will not work"
(:class:`PermanentAddressError`, which may also mean the tenant opted out at the provider).
A :class:`ConfigurationError` means our credentials are wrong: retrying will not help and no
address is to blame, so a person must look.

The contract lives here, with its user, so the scheduler depends on no channel; the channels in
``bot.channels`` implement it (and ``bot.channels.base`` re-exports these names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from storage.models import Channel as ChannelName
from storage.models import MessageStatus


@dataclass(frozen=True)
class Button:
    """A reply option; on Telegram an inline button, on SMS only its number in the text."""

    label: str
    payload: str


@dataclass(frozen=True)
class SentMessage:
    provider_id: str
    status: MessageStatus = MessageStatus.QUEUED
    segments: int | None = None


class ChannelError(Exception):
    """A send failed; subclasses say what the dispatcher should do about it."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientError(ChannelError):
    """Try again later (rate limit, provider outage, timeout).

    ``maybe_sent`` is true when the provider may have accepted the message before the failure (a
    5xx answer or a timeout after the request went out): such a message must be looked up at the
    provider, not re-sent blindly.
    """

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None, maybe_sent: bool = False
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent


class PermanentAddressError(ChannelError):
    """This address cannot be reached on this channel; ``opted_out`` if the tenant chose that."""

    def __init__(self, message: str, *, code: str | None = None, opted_out: bool = False) -> None:
        super().__init__(message, code=code)
        self.opted_out = opted_out


class ConfigurationError(ChannelError):
    """Our side is wrong (credentials, sender); a person must fix the settings."""


class OutboundChannel(Protocol):
    """A channel the dispatcher can send through."""

    name: ChannelName

    async def send(self, to: str, text: str, buttons: tuple[Button, ...] = ()) -> SentMessage: ...
