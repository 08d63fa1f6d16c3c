"""Sending SMS the way production does: the outbox dispatcher, the real ``TwilioSmsChannel`` and the
real ``twilio`` client, talking to the fake Twilio server on 127.0.0.1; status callbacks come back
signed, through the app's real webhook route. SQLite and PostgreSQL.

Why through the dispatcher and not the channel alone: the SID, the opt-out and the retry time are
recorded by the dispatcher, and that record is what the rest of Bokvar reads.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.base import PermanentAddressError, TransientError
from bot.channels.registry import Channels
from bot.channels.twilio_sms import STATUS_PATH, TwilioSmsChannel
from bot.settings import Settings, TwilioSettings
from scheduler.dispatcher import AllowAll, Dispatcher, DispatchStats
from storage.database import transaction
from storage.models import (
    ContactPoint,
    DeliveryEvent,
    Direction,
    Message,
    MessageStatus,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Task,
    TaskKind,
)
from tests.bot.webhook_support import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, provider_settings
from tests.factories import make_tenant
from tests.fakes.fixtures import fake_twilio  # noqa: F401 - the fixture, used by name
from tests.fakes.twilio_server import DEFAULT_SERVICE_NUMBER, CallbackSender, FakeTwilio

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
PHONE = "+46701740605"
STATUS_URL = PUBLIC_URL + STATUS_PATH


@pytest.fixture
def settings(database_url: str, fake_twilio: FakeTwilio) -> Settings:  # noqa: F811
    """Twilio only, its API pointed at the fake: a Telegram bot would try the network on start."""
    return provider_settings(database_url, twilio_api_url=fake_twilio.url, telegram=False)


@pytest.fixture
def sms(settings: Settings) -> TwilioSmsChannel:
    assert settings.twilio is not None
    return TwilioSmsChannel(settings.twilio, settings.public_url)


@pytest.fixture
def app_client(settings: Settings, sessions: sessionmaker[Session], sms: TwilioSmsChannel) -> TestClient:
    return TestClient(create_app(settings, sessions, Channels(sms=sms), clock=lambda: NOW))


def to_webhook(client: TestClient) -> CallbackSender:
    """Deliver the fake's signed status callbacks to the app, headers and body exactly as Twilio sends them."""

    def deliver(url: str, params: dict[str, str], headers: dict[str, str]) -> int:
        return client.post(urlsplit(url).path, content=urlencode(params), headers=headers).status_code

    return deliver


def queue_menu(sessions: sessionmaker[Session], dedupe: str = "menu-1") -> int:
    """A tenant with a phone (created once) and one due reply on SMS; returns the outbox row's id."""
    with transaction(sessions) as session:
        tenant = session.scalar(select(ContactPoint.tenant_id)) or make_tenant(session, phone=PHONE).id
        item = OutboxItem(
            dedupe_key=dedupe, kind=OutboxKind.REPLY, tenant_id=tenant, template_key="menu", values={},
            channel_order=["sms"], status=OutboxStatus.PENDING, due_at=NOW,
        )
        session.add(item)
        session.flush()
        return item.id


def drain(sessions: sessionmaker[Session], sms: TwilioSmsChannel, clock: Callable[[], datetime] = lambda: NOW
          ) -> DispatchStats:
    # A fixed seed keeps the jittered backoff below the 7 s Retry-After used in the 429 test.
    dispatcher = Dispatcher(sessions, Channels(sms=sms), AllowAll(), worker="test", clock=clock,
                            rng=random.Random(7))
    return asyncio.run(dispatcher.drain())


def outbound(sessions: sessionmaker[Session]) -> list[Message]:
    with sessions() as session:
        return list(session.scalars(select(Message).where(Message.direction == Direction.OUTBOUND)
                                    .order_by(Message.id)))


def test_a_send_records_the_sid_and_out_of_order_callbacks_end_delivered(
    fake_twilio: FakeTwilio,  # noqa: F811
    sms: TwilioSmsChannel, app_client: TestClient, sessions: sessionmaker[Session],
) -> None:
    """The SID Twilio answered is the one on our message; ``delivered`` then a late ``sent`` leaves it
    delivered. Callbacks are posted after the SID is recorded, so this is about ordering alone."""
    fake_twilio.callbacks_enabled = False
    fake_twilio.callback_sender = to_webhook(app_client)
    item_id = queue_menu(sessions)

    assert drain(sessions, sms).sent == 1

    [accepted] = fake_twilio.messages
    [message] = outbound(sessions)
    assert (accepted["to"], accepted["from_"], accepted["status_callback"]) == (PHONE, DEFAULT_SERVICE_NUMBER,
                                                                               STATUS_URL)
    assert message.provider_id == accepted["sid"]
    assert message.body == accepted["body"] and message.segments == accepted["num_segments"]
    assert message.status is MessageStatus.QUEUED  # what Twilio answered; callbacks move it on
    with sessions() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None and (item.status, item.message_id) == (OutboxStatus.SENT, message.id)

    assert fake_twilio.send_status_callback(accepted["sid"], "delivered") == 204
    assert fake_twilio.send_status_callback(accepted["sid"], "sent") == 204

    [message] = outbound(sessions)
    assert message.status is MessageStatus.DELIVERED
    with sessions() as session:
        events = session.scalars(select(DeliveryEvent).order_by(DeliveryEvent.id)).all()
    assert [(e.provider_id, e.status, e.applied) for e in events] == [
        (accepted["sid"], MessageStatus.DELIVERED, True), (accepted["sid"], MessageStatus.SENT, True),
    ]


def test_callbacks_racing_the_dispatcher_are_not_lost(
    fake_twilio: FakeTwilio,  # noqa: F811
    sms: TwilioSmsChannel, app_client: TestClient, sessions: sessionmaker[Session],
) -> None:
    """As with the real Twilio, the fake posts ``delivered`` then ``sent`` the moment it has answered,
    while the dispatcher is still writing the SID down. Whichever commits first, the message must end
    up delivered (several rounds, to give the interleavings a chance to happen)."""
    fake_twilio.reverse_callbacks = True
    fake_twilio.callback_sender = to_webhook(app_client)
    rounds = 8
    for number in range(rounds):
        queue_menu(sessions, dedupe=f"menu-{number}")
        assert drain(sessions, sms).sent == 1
    fake_twilio.wait_idle()

    sids = [accepted["sid"] for accepted in fake_twilio.messages]
    results = fake_twilio.callback_results  # one message's callbacks may overlap the next one's
    assert {sid: [(r["status"], r["status_code"]) for r in results if r["sid"] == sid] for sid in sids} == {
        sid: [("delivered", 204), ("sent", 204)] for sid in sids
    }
    messages = outbound(sessions)
    assert [m.provider_id for m in messages] == sids
    assert [m.status for m in messages] == [MessageStatus.DELIVERED] * rounds


def test_error_21610_on_send_opts_the_number_out(
    fake_twilio: FakeTwilio,  # noqa: F811
    sms: TwilioSmsChannel, sessions: sessionmaker[Session],
) -> None:
    """Twilio refuses a number that replied STOP: we mirror that, and never try the number again."""
    fake_twilio.unsubscribed_numbers.add(PHONE)
    item_id = queue_menu(sessions)

    stats = drain(sessions, sms)

    assert (stats.sent, stats.failed) == (0, 1)
    assert [(r["form"]["To"], r["status"]) for r in fake_twilio.requests] == [(PHONE, 400)]
    assert fake_twilio.messages == []
    [message] = outbound(sessions)
    assert (message.status, message.error_code, message.provider_id) == (MessageStatus.FAILED, "21610", None)
    with sessions() as session:
        point = session.scalars(select(ContactPoint)).one()
        assert (point.opted_out, point.opted_out_at, point.opt_out_source) == (True, NOW, "sms_21610")
        assert point.active  # opted out, not a broken number: STOP can be undone with START
        item = session.get(OutboxItem, item_id)
        assert item is not None and item.status is OutboxStatus.FAILED
        [task] = session.scalars(select(Task)).all()
        assert (task.kind, task.tenant_id) == (TaskKind.REACH_IN_PERSON, point.tenant_id)

    queue_menu(sessions, dedupe="menu-2")
    assert drain(sessions, sms).failed == 1
    assert len(fake_twilio.requests) == 1  # the opted-out number was not asked again


def test_error_21610_is_an_opt_out_and_21211_is_not(fake_twilio: FakeTwilio) -> None:  # noqa: F811
    """The channel's own verdict on the two refusals, as the real client raises them (no database)."""
    settings = TwilioSettings(ACCOUNT_SID, AUTH_TOKEN, None, DEFAULT_SERVICE_NUMBER, fake_twilio.url)
    sms = TwilioSmsChannel(settings, PUBLIC_URL)
    fake_twilio.fail_next("21610")
    with pytest.raises(PermanentAddressError) as unsubscribed:
        asyncio.run(sms.send(PHONE, "Hej"))
    fake_twilio.fail_next("21211")
    with pytest.raises(PermanentAddressError) as invalid:
        asyncio.run(sms.send(PHONE, "Hej"))
    assert (unsubscribed.value.code, unsubscribed.value.opted_out) == ("21610", True)
    assert (invalid.value.code, invalid.value.opted_out) == ("21211", False)


def test_429_is_transient_and_the_retry_waits_for_retry_after(
    fake_twilio: FakeTwilio,  # noqa: F811
    sms: TwilioSmsChannel, sessions: sessionmaker[Session],
) -> None:
    """A rate limit is retried, not given up on, and not before the time Twilio asked for."""
    fake_twilio.fail_next("429", retry_after=7)
    with pytest.raises(TransientError) as caught:
        asyncio.run(sms.send(PHONE, "Hej"))
    error = caught.value
    assert (error.retry_after, error.code, error.maybe_sent) == (7.0, "20429", False)

    fake_twilio.fail_next("429", retry_after=7)
    item_id = queue_menu(sessions)
    assert drain(sessions, sms).retried == 1
    with sessions() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None
        assert (item.status, item.attempts, item.next_attempt_at) == (
            OutboxStatus.PENDING, 1, NOW + timedelta(seconds=7))
    assert fake_twilio.messages == []

    assert drain(sessions, sms, clock=lambda: NOW + timedelta(seconds=6)).claimed == 0
    assert drain(sessions, sms, clock=lambda: NOW + timedelta(seconds=7)).sent == 1
    [accepted] = fake_twilio.messages
    first, second = outbound(sessions)
    assert (first.status, first.error_code) == (MessageStatus.FAILED, "20429")
    assert second.provider_id == accepted["sid"]
    with sessions() as session:
        item = session.get(OutboxItem, item_id)
        assert item is not None and (item.status, item.message_id) == (OutboxStatus.SENT, second.id)
