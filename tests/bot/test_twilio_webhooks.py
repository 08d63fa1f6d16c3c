"""Twilio's webhooks: signatures checked before anything is stored, inbound stored once,
delivery status only ever moving forward, opt-outs mirrored. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.base import ForgedRequest
from bot.channels.twilio_sms import TwilioSmsChannel
from bot.settings import TwilioSettings
from storage.database import transaction
from storage.delivery import apply_pending_events
from storage.models import (
    Channel,
    ContactPoint,
    DeliveryEvent,
    Direction,
    Message,
    MessageStatus,
    Task,
)
from tests.bot.webhook_support import (
    PUBLIC_URL,
    inbound_sms,
    provider_settings,
    twilio_signature,
)
from tests.factories import make_tenant
from tests.storage.snapshots import snapshot

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
INBOUND_URL = PUBLIC_URL + "/webhooks/twilio/sms"
STATUS_URL = PUBLIC_URL + "/webhooks/twilio/status"


@pytest.fixture
def client(database_url: str, engine: Engine, sessions: sessionmaker[Session]) -> TestClient:
    app = create_app(provider_settings(database_url), sessions, clock=lambda: NOW)
    with transaction(sessions) as session:
        make_tenant(session, "T-1", phone="+46701740605")
    return TestClient(app)


def post_signed(client: TestClient, url: str, params: dict, signature: str | None = "sign") -> object:
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = twilio_signature(url, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.post(url.removeprefix(PUBLIC_URL), data=params, headers=headers)


def messages(sessions: sessionmaker[Session]) -> list[Message]:
    with sessions() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def test_twilio_public_vectors_through_our_check() -> None:
    """The vector from twilio-python's own tests, checked by the function our webhooks use."""
    settings = TwilioSettings("AC" + "0" * 32, "12345", None, "+46766861004", None)
    params = {
        "CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
        "From": "+14158675309", "To": "+18005551212",
    }
    for public_url, signature in (
        ("https://mycompany.com", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443", "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ):
        channel = TwilioSmsChannel(settings, public_url)
        channel.verify("/myapp.php", "foo=1&bar=2", params, signature)
        with pytest.raises(ForgedRequest):
            channel.verify("/myapp.php", "foo=1&bar=3", params, signature)


def test_inbound_is_answered_with_empty_twiml_and_stored(client: TestClient, sessions) -> None:
    response = post_signed(client, INBOUND_URL, inbound_sms(body="Jag har betalat"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    [message] = messages(sessions)
    assert (message.direction, message.channel, message.body) == (Direction.INBOUND, Channel.SMS, "Jag har betalat")
    assert message.tenant_id is not None and message.status is MessageStatus.RECEIVED


def test_the_same_inbound_three_times_is_stored_once(client: TestClient, sessions) -> None:
    for _ in range(3):
        assert post_signed(client, INBOUND_URL, inbound_sms()).status_code == 200
    assert len(messages(sessions)) == 1


@pytest.mark.parametrize(
    "how",
    ["missing", "garbage", "wrong_token", "other_url", "tampered_body"],
)
def test_forged_requests_get_403_and_change_nothing(client: TestClient, engine: Engine, how: str) -> None:
    params = inbound_sms()
    before = snapshot(engine)
    if how == "missing":
        response = post_signed(client, INBOUND_URL, params, signature=None)
    elif how == "garbage":
        response = post_signed(client, INBOUND_URL, params, signature="bm9wZQ==")
    elif how == "wrong_token":
        response = post_signed(client, INBOUND_URL, params, twilio_signature(INBOUND_URL, params, "other-token"))
    elif how == "other_url":  # a valid signature replayed to another URL
        response = post_signed(client, INBOUND_URL, params, twilio_signature(STATUS_URL, params))
    else:
        signature = twilio_signature(INBOUND_URL, params)
        response = post_signed(client, INBOUND_URL, {**params, "Body": "STOP"}, signature)
    assert response.status_code == 403
    assert snapshot(engine) == before


def test_a_forged_status_callback_changes_nothing(client: TestClient, engine: Engine) -> None:
    before = snapshot(engine)
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed", "ErrorCode": "21610"}
    assert post_signed(client, STATUS_URL, params, signature="bm9wZQ==").status_code == 403
    assert snapshot(engine) == before


def test_unknown_sender_becomes_a_task(client: TestClient, sessions) -> None:
    post_signed(client, INBOUND_URL, inbound_sms(sender="+46701740699", body="Hej, vem är detta?"))
    [message] = messages(sessions)
    assert message.tenant_id is None
    with sessions() as session:
        [task] = session.scalars(select(Task)).all()
    assert task.message_id == message.id


def test_advanced_opt_out_is_mirrored(client: TestClient, sessions) -> None:
    post_signed(client, INBOUND_URL, inbound_sms(body="STOP", OptOutType="STOP"))
    with sessions() as session:
        point = session.scalars(select(ContactPoint)).one()
        assert point.opted_out and point.opt_out_source == "provider_keyword"
    post_signed(client, INBOUND_URL, inbound_sms(sid="SM" + "b" * 32, body="START", OptOutType="START"))
    with sessions() as session:
        assert not session.scalars(select(ContactPoint)).one().opted_out


def _outbound(sessions, sid: str) -> int:
    with transaction(sessions) as session:
        point = session.scalars(select(ContactPoint)).one()
        message = Message(
            tenant_id=point.tenant_id, contact_point_id=point.id, direction=Direction.OUTBOUND,
            channel=Channel.SMS, body="Hej!", provider_id=sid, status=MessageStatus.QUEUED,
        )
        session.add(message)
        session.flush()
        return message.id


def status(sid: str, value: str, **extra: str) -> dict:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": value, "SmsStatus": value,
            "AccountSid": "AC" + "0" * 32, **extra}


def test_status_never_moves_backwards(client: TestClient, sessions) -> None:
    sid = "SM" + "c" * 32
    message_id = _outbound(sessions, sid)
    for value in ("delivered", "sent", "queued"):
        assert post_signed(client, STATUS_URL, status(sid, value)).status_code == 204
    with sessions() as session:
        assert session.get(Message, message_id).status is MessageStatus.DELIVERED
        assert len(session.scalars(select(DeliveryEvent)).all()) == 3


def test_undelivered_keeps_the_error_code_and_21610_opts_out(client: TestClient, sessions) -> None:
    sid = "SM" + "d" * 32
    message_id = _outbound(sessions, sid)
    post_signed(client, STATUS_URL, status(sid, "sent"))
    post_signed(client, STATUS_URL, status(sid, "undelivered", ErrorCode="21610"))
    post_signed(client, STATUS_URL, status(sid, "undelivered", ErrorCode="21610"))  # a repeat
    with sessions() as session:
        message = session.get(Message, message_id)
        assert (message.status, message.error_code) == (MessageStatus.UNDELIVERED, "21610")
        point = session.scalars(select(ContactPoint)).one()
        assert point.opted_out and point.opt_out_source == "twilio_21610"
        assert len(session.scalars(select(DeliveryEvent)).all()) == 2


def test_a_status_that_arrives_before_its_message_is_applied_later(client: TestClient, sessions) -> None:
    sid = "SM" + "e" * 32
    post_signed(client, STATUS_URL, status(sid, "delivered"))
    message_id = _outbound(sessions, sid)
    with transaction(sessions) as session:
        message = session.get(Message, message_id)
        apply_pending_events(session, message, NOW)
    with sessions() as session:
        assert session.get(Message, message_id).status is MessageStatus.DELIVERED


def test_a_signed_sms_reaches_the_dialogue_once_and_its_reply_goes_to_the_outbox(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    from storage.models import OutboxItem, OutboxKind, TaskKind

    params = inbound_sms(sid="SM" + "d" * 32, sender="+46701740605", body="Jag behöver hjälp med hyran")
    for _ in range(3):
        assert post_signed(client, INBOUND_URL, params).status_code == 200
    with sessions() as session:
        inbound = session.scalars(select(Message).where(Message.direction == Direction.INBOUND)).one()
        assert inbound.handled_at == NOW
        tasks = session.scalars(select(Task).where(Task.message_id == inbound.id)).all()
        assert [task.kind for task in tasks] == [TaskKind.HELP_REQUEST]
        replies = session.scalars(select(OutboxItem).where(OutboxItem.in_reply_to_message_id == inbound.id)).all()
        assert [(r.kind, r.template_key, r.channel_order) for r in replies] == [
            (OutboxKind.REPLY, "help_acknowledged", ["sms"])
        ]
