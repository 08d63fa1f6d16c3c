"""Telegram with python-telegram-bot: sending with inline buttons, and the webhook's updates.

``BOKVAR_TELEGRAM_API_URL`` (a self-hosted Bot API server, or the fake server in tests) becomes
PTB's ``base_url``. Webhooks are authenticated by the secret token Telegram echoes in
``X-Telegram-Bot-Api-Secret-Token``, compared in constant time.
"""

from __future__ import annotations

import hmac
import warnings
from datetime import UTC, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.base import (
    Button,
    ChannelError,
    ConfigurationError,
    ForgedRequest,
    Inbound,
    PermanentAddressError,
    SentMessage,
    TransientError,
)
from bot.settings import TelegramSettings
from storage.models import Channel as ChannelName
from storage.models import MessageStatus

WEBHOOK_PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UNREACHABLE_CHAT_HINTS = ("chat not found", "user is deactivated", "peer_id_invalid", "chat_id is empty")
ATTACHMENT_KINDS = ("voice", "audio", "photo", "video", "video_note", "document", "sticker", "location", "contact")


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(error: TelegramError) -> ChannelError:
    """Map PTB's exceptions onto the dispatcher's cases."""
    text = error.message if hasattr(error, "message") else str(error)
    if isinstance(error, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PTB 22.2+ warns about int periods; we accept both
            retry_after = _seconds(error.retry_after)
        return TransientError("Telegram rate limit", code="429", retry_after=retry_after)
    if isinstance(error, Forbidden):
        return PermanentAddressError(f"Telegram refused: {text}", code="403", opted_out=True)
    if isinstance(error, InvalidToken):
        return ConfigurationError("Telegram does not accept TELEGRAM_BOT_TOKEN", code="401")
    if isinstance(error, BadRequest):
        if any(hint in text.lower() for hint in UNREACHABLE_CHAT_HINTS):
            return PermanentAddressError(f"Telegram: {text}", code="400")
        return ChannelError(f"Telegram refused the message: {text}", code="400")
    if isinstance(error, TimedOut):
        return TransientError("Telegram did not answer in time", maybe_sent=True)
    if isinstance(error, NetworkError):
        return TransientError(f"Telegram could not be reached: {type(error).__name__}")
    return TransientError(f"Telegram error: {type(error).__name__}")


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button per row: labels in long languages stay readable on a small phone."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.payload)] for b in buttons])


def _button_label(update: Update, data: str) -> str | None:
    message = update.callback_query.message if update.callback_query else None
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()) or ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


class TelegramChannel:
    """Sends through one bot and turns its webhook updates into :class:`Inbound` messages."""

    name = ChannelName.TELEGRAM

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        base_url = f"{settings.api_url}/bot" if settings.api_url else "https://api.telegram.org/bot"
        base_file_url = f"{settings.api_url}/file/bot" if settings.api_url else "https://api.telegram.org/file/bot"
        self.bot = Bot(settings.bot_token, base_url=base_url, base_file_url=base_file_url)

    async def start(self) -> None:
        """Initialise the bot (PTB calls getMe, which also checks the token)."""
        try:
            await self.bot.initialize()
        except TelegramError as error:
            raise classify(error) from None

    async def stop(self) -> None:
        await self.bot.shutdown()

    @property
    def username(self) -> str:
        return self.bot.username

    async def send(self, to: str, text: str, buttons: tuple[Button, ...] = ()) -> SentMessage:
        try:
            message = await self.bot.send_message(chat_id=int(to), text=text, reply_markup=keyboard(buttons))
        except TelegramError as error:
            raise classify(error) from None
        except ValueError:
            raise PermanentAddressError(f"{to!r} is not a Telegram chat id") from None
        return SentMessage(provider_id=f"{message.chat_id}:{message.message_id}", status=MessageStatus.SENT)

    async def answer_button(self, callback_query_id: str) -> None:
        """Stop the button's spinner; failing to do so only looks untidy, so errors are swallowed."""
        try:
            await self.bot.answer_callback_query(callback_query_id)
        except TelegramError:
            return

    def verify(self, secret_header: str | None) -> None:
        expected = self.settings.webhook_secret.encode()
        if secret_header is None or not hmac.compare_digest(secret_header.encode(), expected):
            raise ForgedRequest(f"{SECRET_HEADER} does not match")

    def parse_update(self, data: dict[str, Any]) -> Inbound | None:
        """The tenant's message or button press in an update; None for updates we do not act on."""
        update = Update.de_json(data, self.bot)
        if update is None:
            return None
        event_id = f"update:{update.update_id}"
        if update.callback_query is not None:
            query = update.callback_query
            chat = query.message.chat if query.message is not None else None
            address = str(chat.id if chat is not None else query.from_user.id)
            data_text = query.data or ""
            return Inbound(
                channel=ChannelName.TELEGRAM, address=address, text=_button_label(update, data_text) or data_text,
                provider_id=f"cb:{query.id}", event_id=event_id, payload=data_text,
                callback_query_id=query.id, sender_language=query.from_user.language_code,
            )
        message = update.message
        if message is None:
            return None
        text = message.text or message.caption or ""
        start_code = None
        command, _, argument = text.partition(" ")
        if command == "/start" or command.startswith("/start@"):
            start_code = argument.strip() or None
        attachment = next((kind for kind in ATTACHMENT_KINDS if getattr(message, kind, None)), None)
        return Inbound(
            channel=ChannelName.TELEGRAM, address=str(message.chat.id), text=text,
            provider_id=f"{message.chat.id}:{message.message_id}", event_id=event_id,
            received_at=message.date.astimezone(UTC) if message.date else None, start_code=start_code,
            sender_language=message.from_user.language_code if message.from_user else None,
            attachment=attachment,
        )

    async def set_webhook(self, public_url: str) -> str:
        url = public_url.rstrip("/") + WEBHOOK_PATH
        try:
            await self.bot.set_webhook(
                url=url, secret_token=self.settings.webhook_secret,
                allowed_updates=["message", "callback_query"], drop_pending_updates=False,
            )
        except TelegramError as error:
            raise classify(error) from None
        return url
