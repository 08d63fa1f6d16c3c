"""The planner's rows through the real dispatcher (simulator channel): the contract between them.

The planner writes ``values`` as JSON; the dispatcher must read them back to the exact amount and
deadline of the notice. The dispatcher's send-time check is :class:`scheduler.planner.SendTimeRules`.
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from scheduler_factories import local, make_notice_case, outbox
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.planner import SendTimeRules, plan
from storage.database import transaction
from storage.models import Case, Message, OutboxStatus
from tests.factories import make_tenant

dispatcher_module = pytest.importorskip("scheduler.dispatcher")
channels_module = pytest.importorskip("bot.channels.registry")


def _dispatcher(sessions: sessionmaker[Session], now: object) -> object:
    return dispatcher_module.Dispatcher(
        sessions, channels_module.Channels(), SendTimeRules(), worker="test", clock=lambda: now, simulate_all=True
    )


def test_a_planned_notice_is_sent_with_the_exact_amount_and_deadline(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        make_notice_case(session, tenant, "NT-1", date(2026, 5, 29), amount_ore=1_422_050)
    now = local(2026, 5, 29, 9, 30)
    assert len(plan(sessions, now).messages) == 1
    stats = asyncio.run(_dispatcher(sessions, now).drain())  # type: ignore[attr-defined]
    assert stats.sent == 1
    with transaction(sessions) as session:
        [message] = session.scalars(select(Message)).all()
        assert "14 220,50 kr" in message.body and "22 juni 2026" in message.body
        assert [row.status for row in outbox(session)] == [OutboxStatus.SENT]


def test_the_dispatcher_withdraws_a_row_whose_case_was_paid_and_defers_on_sunday(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        paid = make_notice_case(session, make_tenant(session, "T-1"), "NT-1", date(2026, 5, 29))
        make_notice_case(session, make_tenant(session, "T-2", phone="+46701740699"), "NT-2", date(2026, 5, 29))
        paid_id = paid.id
    assert len(plan(sessions, local(2026, 5, 29, 9, 0)).messages) == 2  # due at once; the dispatcher was down
    with transaction(sessions) as session:
        case = session.get(Case, paid_id)
        assert case is not None
        case.paid_at = local(2026, 5, 29, 8, 30)
    sunday = local(2026, 5, 31, 12, 0)
    stats = asyncio.run(_dispatcher(sessions, sunday).drain())  # type: ignore[attr-defined]
    assert (stats.withdrawn, stats.deferred, stats.sent) == (1, 1, 0)
    with transaction(sessions) as session:
        rows = {row.case_id: row for row in outbox(session)}
        assert (rows[paid_id].status, rows[paid_id].withdrawn_reason) == (OutboxStatus.WITHDRAWN, "paid")
        other = next(row for case_id, row in rows.items() if case_id != paid_id)
        assert other.status == OutboxStatus.PENDING and other.due_at == local(2026, 6, 1, 8, 0)
