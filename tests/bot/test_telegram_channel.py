"""Telegram end to end: updates built like Telegram's reach the app's real webhook route, and the
production ``TelegramChannel`` (python-telegram-bot's real ``Bot``) talks to the fake Bot API on
127.0.0.1 for getMe, sendMessage and answerCallbackQuery. SQLite and PostgreSQL.

What is proved here is what a tenant would notice: a deep link links their chat once, a button
press arrives as its payload and stops spinning, a blocked bot is taken as "no more Telegram",
and a forged or repeated webhook changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.base import PermanentAddressError
from bot.channels.registry import Channels
from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH, TelegramChannel
from bot.channels.twilio_sms import TwilioSmsChannel
from bot.settings import Settings
from bot.telegram_linking import TELEGRAM_PRIORITY, issue_link_code
from scheduler.dispatcher import AllowAll, Dispatcher, DispatchStats
from storage.database import transaction
from storage.delivery import opt_out_contact_point
from storage.models import (
    Channel,
    ContactPoint,
    Direction,
    InboundReceipt,
    Message,
    MessageStatus,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    TelegramLinkCode,
)
from tests.bot.webhook_support import TELEGRAM_SECRET, provider_settings
from tests.factories import make_tenant
from tests.fakes.fixtures import fake_telegram, fake_twilio  # noqa: F401 - fixtures, used by name
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio
from tests.storage.snapshots import snapshot

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
CHAT = 1111111
OTHER_CHAT = 2222222
PHONE = "+46701740605"


@pytest.fixture
def settings(database_url: str, fake_telegram: FakeTelegram, fake_twilio: FakeTwilio) -> Settings:  # noqa: F811
    """Both providers pointed at the fakes, so nothing in these tests can reach the internet."""
    return provider_settings(database_url, twilio_api_url=fake_twilio.url, telegram_api_url=fake_telegram.url)


@pytest.fixture
def client(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app with its lifespan running: the bot is initialised (getMe) as in production."""
    with TestClient(create_app(settings, sessions, clock=lambda: NOW)) as test_client:
        yield test_client


def post_update(client: TestClient, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    return client.post(WEBHOOK_PATH, json=update, headers=headers)


def count(sessions: sessionmaker[Session], model: type, *where: Any) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def telegram_points(sessions: sessionmaker[Session]) -> list[tuple[int, str, bool, bool, bool, int]]:
    with sessions() as session:
        points = session.scalars(
            select(ContactPoint).where(ContactPoint.channel == Channel.TELEGRAM).order_by(ContactPoint.id)
        )
        return [(p.tenant_id, p.address, p.active, p.verified, p.opted_out, p.priority) for p in points]


def link_confirmations(sessions: sessionmaker[Session]) -> int:
    return count(sessions, OutboxItem, OutboxItem.template_key == "telegram_linked")


def queue(sessions: sessionmaker[Session], tenant_id: int, channels: list[str], dedupe: str,
          values: dict[str, Any] | None = None) -> int:
    with transaction(sessions) as session:
        item = OutboxItem(
            dedupe_key=dedupe, kind=OutboxKind.REPLY, tenant_id=tenant_id, template_key="menu",
            values=values or {}, channel_order=channels, status=OutboxStatus.PENDING, due_at=NOW,
        )
        session.add(item)
        session.flush()
        return item.id


def drain(sessions: sessionmaker[Session], settings: Settings) -> DispatchStats:
    """Run the dispatcher with production channels built from ``settings`` (its own event loop, so
    its own bot: PTB's HTTP client belongs to the loop that initialised it)."""
    assert settings.telegram is not None and settings.twilio is not None

    async def run() -> DispatchStats:
        telegram = TelegramChannel(settings.telegram)
        await telegram.start()
        try:
            channels = Channels(telegram=telegram, sms=TwilioSmsChannel(settings.twilio, settings.public_url))
            return await Dispatcher(sessions, channels, AllowAll(), worker="test", clock=lambda: NOW).drain()
        finally:
            await telegram.stop()

    return asyncio.run(run())


def test_a_deep_link_start_links_the_chat_exactly_once(
    client: TestClient, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    with transaction(sessions) as session:
        issue_link_code(session, make_tenant(session, "T-2", phone="+46701740606"), NOW)  # a neighbour's code
        tenant = make_tenant(session)
        tenant_id = tenant.id
        first_code, second_code = issue_link_code(session, tenant, NOW), issue_link_code(session, tenant, NOW)

    start = fake_telegram.start_update(CHAT, first_code)
    answer = post_update(client, start)

    assert (answer.status_code, answer.content) == (200, b"")  # no refusal sent back
    assert telegram_points(sessions) == [(tenant_id, str(CHAT), True, True, False, TELEGRAM_PRIORITY)]
    with sessions() as session:
        used = session.scalars(select(TelegramLinkCode).where(TelegramLinkCode.used_at.is_not(None))).all()
        assert [(row.tenant_id, row.used_at, row.used_by_chat_id) for row in used] == [(tenant_id, NOW, str(CHAT))]
        stored = session.scalars(select(Message)).one()
        assert (stored.tenant_id, stored.direction, stored.body) == (tenant_id, Direction.INBOUND,
                                                                     f"/start {first_code}")
    assert link_confirmations(sessions) == 1

    # Telegram retrying the same update, the tenant tapping the link again, and a second code for the
    # same tenant from the same chat: still one link, still one confirmation.
    for update in (start, fake_telegram.start_update(CHAT, first_code), fake_telegram.start_update(CHAT, second_code)):
        assert post_update(client, update).status_code == 200
    assert telegram_points(sessions) == [(tenant_id, str(CHAT), True, True, False, TELEGRAM_PRIORITY)]
    assert link_confirmations(sessions) == 1
    assert count(sessions, Message) == 3  # the retried update is not stored twice

    # Someone else who got hold of the used link is refused, in the webhook answer, and linked to nothing.
    refused = post_update(client, fake_telegram.start_update(OTHER_CHAT, first_code))
    assert refused.status_code == 200
    assert refused.json()["method"] == "sendMessage" and refused.json()["chat_id"] == OTHER_CHAT
    assert refused.json()["text"]
    assert [point[1] for point in telegram_points(sessions)] == [str(CHAT)]


def test_linking_again_after_blocking_the_bot_opts_the_chat_back_in(
    client: TestClient, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    """Unblocking the bot and opening a fresh link is the tenant choosing Telegram again: the opt-out
    is lifted entirely and they are told the chat is linked."""
    with transaction(sessions) as session:
        tenant = make_tenant(session, telegram_chat=str(CHAT))
        point = session.scalars(select(ContactPoint).where(ContactPoint.channel == Channel.TELEGRAM)).one()
        point.verified = True
        opt_out_contact_point(point, "telegram_403", NOW)
        code = issue_link_code(session, tenant, NOW)

    assert post_update(client, fake_telegram.start_update(CHAT, code)).status_code == 200

    with sessions() as session:
        point = session.scalars(select(ContactPoint).where(ContactPoint.channel == Channel.TELEGRAM)).one()
        assert (point.active, point.opted_out, point.opted_out_at, point.opt_out_source) == (True, False, None, None)
    assert link_confirmations(sessions) == 1


def test_a_button_press_arrives_as_its_payload_and_is_answered(
    client: TestClient, settings: Settings, fake_telegram: FakeTelegram,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    """The keyboard is sent by the dispatcher, pressed by the tenant, and the press is answered at
    Telegram once (a repeat of the update is neither stored nor answered again)."""
    with transaction(sessions) as session:
        tenant_id = make_tenant(session, telegram_chat=str(CHAT)).id
    queue(sessions, tenant_id, ["telegram"], "buttons", {"_buttons": [{"label": "Boka möte", "payload": "book:42"}]})
    assert drain(sessions, settings).sent == 1
    [sent] = fake_telegram.sent_messages
    assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "Boka möte", "callback_data": "book:42"}]]}

    press = fake_telegram.callback_update(CHAT, "book:42", sent["message_id"], query_id="4382bfdwdsb323b2d9")
    assert post_update(client, press).status_code == 200
    assert post_update(client, press).status_code == 200

    with sessions() as session:
        [pressed] = session.scalars(select(Message).where(Message.direction == Direction.INBOUND)).all()
    assert (pressed.tenant_id, pressed.channel, pressed.payload, pressed.body, pressed.provider_id) == (
        tenant_id, Channel.TELEGRAM, "book:42", "Boka möte", "cb:4382bfdwdsb323b2d9")
    assert [answered["callback_query_id"] for answered in fake_telegram.answered_callbacks] == ["4382bfdwdsb323b2d9"]


def test_a_blocked_bot_opts_the_chat_out_and_sms_takes_over(
    settings: Settings, fake_telegram: FakeTelegram, fake_twilio: FakeTwilio,  # noqa: F811
    sessions: sessionmaker[Session],
) -> None:
    """Telegram's 403 "bot was blocked by the user" goes through the dispatcher's permanent-error
    path: the chat is marked opted out (the tenant's choice, not a broken address) and the message
    falls back to SMS; the next message does not try Telegram at all."""
    fake_telegram.blocked_chats.add(CHAT)
    with transaction(sessions) as session:
        tenant_id = make_tenant(session, telegram_chat=str(CHAT)).id
    item_id = queue(sessions, tenant_id, ["telegram", "sms"], "first")

    assert drain(sessions, settings).sent == 1

    with sessions() as session:
        point = session.scalars(select(ContactPoint).where(ContactPoint.channel == Channel.TELEGRAM)).one()
        assert (point.opted_out, point.opted_out_at, point.opt_out_source, point.active) == (
            True, NOW, "telegram_403", True)
        refused, by_sms = session.scalars(select(Message).order_by(Message.id)).all()
        item = session.get(OutboxItem, item_id)
        assert item is not None and (item.status, item.message_id) == (OutboxStatus.SENT, by_sms.id)
    assert (refused.channel, refused.status, refused.error_code) == (Channel.TELEGRAM, MessageStatus.FAILED, "403")
    [accepted] = fake_twilio.messages
    assert (by_sms.channel, by_sms.provider_id, accepted["to"]) == (Channel.SMS, accepted["sid"], PHONE)
    assert fake_telegram.sent == []

    queue(sessions, tenant_id, ["telegram", "sms"], "second")
    assert drain(sessions, settings).sent == 1
    assert [name for name, _ in fake_telegram.calls].count("sendMessage") == 1
    assert len(fake_twilio.messages) == 2


def test_the_channel_calls_a_blocked_bot_an_opt_out(settings: Settings, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    fake_telegram.fail_next("sendMessage", "blocked")

    async def send() -> None:
        assert settings.telegram is not None
        telegram = TelegramChannel(settings.telegram)
        await telegram.start()
        try:
            await telegram.send(str(CHAT), "Hej")
        finally:
            await telegram.stop()

    with pytest.raises(PermanentAddressError) as caught:
        asyncio.run(send())
    assert (caught.value.opted_out, caught.value.code) == (True, "403")
    assert "bot was blocked by the user" in str(caught.value)


@pytest.mark.parametrize("secret", [None, "", "webhook-secret_43", TELEGRAM_SECRET + "x"])
def test_a_wrong_secret_token_gets_403_and_changes_nothing(
    client: TestClient, fake_telegram: FakeTelegram, engine: Engine,  # noqa: F811
    sessions: sessionmaker[Session], secret: str | None,
) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session, telegram_chat=str(CHAT))
        code = issue_link_code(session, tenant, NOW)
    before = snapshot(engine)
    calls_before = len(fake_telegram.calls)

    for update in (fake_telegram.text_update(CHAT, "Jag har betalat"), fake_telegram.start_update(OTHER_CHAT, code),
                   fake_telegram.callback_update(CHAT, "book:42", 1366)):
        assert post_update(client, update, secret=secret).status_code == 403

    assert snapshot(engine) == before
    assert fake_telegram.calls[calls_before:] == []  # the button press was not answered either


def test_the_same_update_twice_stores_one_message(
    client: TestClient, fake_telegram: FakeTelegram, sessions: sessionmaker[Session]  # noqa: F811
) -> None:
    with transaction(sessions) as session:
        tenant_id = make_tenant(session, telegram_chat=str(CHAT)).id
    update = fake_telegram.text_update(CHAT, "Jag betalar på fredag")

    for _ in range(2):
        assert post_update(client, update).status_code == 200

    with sessions() as session:
        [stored] = session.scalars(select(Message).where(Message.direction == Direction.INBOUND)).all()
        [receipt] = session.scalars(select(InboundReceipt)).all()
    message = update["message"]
    assert (stored.tenant_id, stored.body, stored.provider_id) == (
        tenant_id, "Jag betalar på fredag", f"{CHAT}:{message['message_id']}")
    assert (receipt.external_id, receipt.message_id) == (f"update:{update['update_id']}", stored.id)
