"""The dispatcher end to end on the simulator channel: rendering at send time, language, states."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.channels.registry import Channels
from scheduler.dispatcher import AllowAll, Dispatcher, RuleDecision
from scheduler.outbox_values import encode_values
from storage.database import transaction
from storage.models import (
    Awaiting,
    ConversationState,
    Message,
    MessageStatus,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Task,
    TemplateVersion,
)
from tests.factories import make_case, make_tenant

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def queue(session, tenant_id: int, key: str, values: dict, *, kind=OutboxKind.PLANNED, dedupe="k1",
          due=NOW, channels=("sms",)) -> int:
    item = OutboxItem(
        dedupe_key=dedupe, kind=kind, tenant_id=tenant_id, template_key=key, values=encode_values(values),
        channel_order=list(channels), status=OutboxStatus.PENDING, due_at=due,
    )
    session.add(item)
    session.flush()
    return item.id


def dispatcher(sessions, rules=None, clock=lambda: NOW) -> Dispatcher:
    return Dispatcher(sessions, Channels(), rules or AllowAll(), worker="test", clock=clock, simulate_all=True)


def test_a_due_row_is_rendered_in_the_tenants_language_and_sent_once(sessions) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session, language="ar")
        case = make_case(session, tenant)
        item_id = queue(session, tenant.id, "recovery_reminder",
                        {"amount": 1_784_250, "deadline": datetime(2026, 12, 21, 22, 59, tzinfo=UTC)})
        item = session.get(OutboxItem, item_id)
        item.case_id = case.id
    stats = asyncio.run(dispatcher(sessions).drain())
    assert stats.sent == 1
    with sessions() as session:
        item = session.get(OutboxItem, item_id)
        [message] = session.scalars(select(Message)).all()
    assert item.status is OutboxStatus.SENT and item.message_id == message.id
    assert message.status is MessageStatus.DELIVERED and message.provider_id.startswith("sim-")
    assert message.language == "ar"
    assert "17,842.50 SEK" in message.body
    assert asyncio.run(dispatcher(sessions).drain()).sent == 0


def test_rows_not_yet_due_wait(sessions) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        queue(session, tenant.id, "menu", {}, due=NOW + timedelta(hours=1))
    assert asyncio.run(dispatcher(sessions).drain()).sent == 0
    later = asyncio.run(dispatcher(sessions, clock=lambda: NOW + timedelta(hours=2)).drain())
    assert later.sent == 1


def test_the_conversation_language_wins_and_admin_text_is_used(sessions) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session, language="sv")
        session.add(ConversationState(tenant_id=tenant.id, awaiting=Awaiting.MENU, language="en", context={}))
        session.add(TemplateVersion(key="menu", language="en", version=2, body="Reply 1, 2 or 3 (edited).",
                                    published=True))
        queue(session, tenant.id, "menu", {})
    asyncio.run(dispatcher(sessions).drain())
    with sessions() as session:
        message = session.scalars(select(Message)).one()
    assert (message.body, message.language, message.template_version) == ("Reply 1, 2 or 3 (edited).", "en", 2)


class ClosedWindow:
    def check(self, session, item, tenant, now) -> RuleDecision:
        return RuleDecision(False, "outside the send window", retry_at=now + timedelta(hours=10))


def test_planned_outreach_waits_for_the_window_but_replies_do_not(sessions) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        planned = queue(session, tenant.id, "menu", {}, dedupe="planned")
        reply = queue(session, tenant.id, "payment_acknowledged", {}, kind=OutboxKind.REPLY, dedupe="reply")
    stats = asyncio.run(dispatcher(sessions, rules=ClosedWindow()).drain())
    assert (stats.sent, stats.deferred) == (1, 1)
    with sessions() as session:
        assert session.get(OutboxItem, reply).status is OutboxStatus.SENT
        waiting = session.get(OutboxItem, planned)
        assert waiting.status is OutboxStatus.PENDING and waiting.due_at == NOW + timedelta(hours=10)
        assert waiting.attempts == 0


def test_no_usable_channel_becomes_a_task(sessions) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session, phone=None)
        item_id = queue(session, tenant.id, "menu", {})
    stats = asyncio.run(dispatcher(sessions).drain())
    assert stats.failed == 1
    with sessions() as session:
        assert session.get(OutboxItem, item_id).status is OutboxStatus.FAILED
        [task] = session.scalars(select(Task)).all()
    assert task.kind.value == "reach_in_person" and task.tenant_id is not None
