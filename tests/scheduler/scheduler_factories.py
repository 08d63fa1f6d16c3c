"""Test helpers for the scheduler: Stockholm clock times, notice cases, and a stand-in dispatcher.

``dispatch`` does what the real dispatcher does with the planner's public API: ask
:class:`scheduler.planner.SendTimeRules` (``withdraw_reason``, then the send rules), and either
mark the row sent (with an outbound message, so the frequency cap and "no reply since" see it),
withdraw it, or move ``due_at`` to ``retry_at``. It sends instantly and never fails, which keeps
the walks about the timeline. ``walk`` runs planner and dispatcher over a controlled clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.calendar import STOCKHOLM
from scheduler.planner import PlanReport, SendTimeRules, plan
from scheduler.playbook import Playbook, load_playbook
from storage.database import transaction
from storage.models import (
    Case,
    CaseKind,
    CaseStage,
    Channel,
    Direction,
    Message,
    MessageStatus,
    OutboxItem,
    OutboxStatus,
    Task,
    Tenant,
)

PLAYBOOK = load_playbook()


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """An instant given as Stockholm wall-clock time, returned in UTC like the database does."""
    return datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


def make_notice_case(
    session: Session, tenant: Tenant, ref: str, served: date, amount_ore: int = 1_422_000,
    rent_due: date | None = None,
) -> Case:
    case = Case(
        external_ref=ref, tenant=tenant, kind=CaseKind.NOTICE, stage=CaseStage.NOTICE_SERVED,
        rent_due_date=rent_due or served - timedelta(days=20), notice_served_on=served,
        amount_overdue_ore=amount_ore, opened_at=datetime.combine(served, time(8), tzinfo=STOCKHOLM),
    )
    session.add(case)
    session.flush()
    return case


def write_inbound(session: Session, tenant: Tenant, at: datetime, text: str = "ok", provider_id: str = "in-1") -> None:
    session.add(Message(
        tenant_id=tenant.id, direction=Direction.INBOUND, channel=Channel.SMS, body=text,
        provider_id=provider_id, status=MessageStatus.RECEIVED, created_at=at,
    ))
    session.flush()


def mark_sent(session: Session, item: OutboxItem, at: datetime) -> None:
    channel = Channel(item.channel_order[0]) if item.channel_order else Channel.SIMULATOR
    message = Message(
        tenant_id=item.tenant_id, case_id=item.case_id, direction=Direction.OUTBOUND, channel=channel,
        body=f"[{item.template_key}]", template_key=item.template_key, provider_id=f"out-{item.id}",
        status=MessageStatus.SENT, created_at=at,
    )
    session.add(message)
    session.flush()
    item.status = OutboxStatus.SENT
    item.message_id = message.id
    item.updated_at = at
    session.flush()


def dispatch(session: Session, now: datetime, playbook: Playbook = PLAYBOOK) -> list[OutboxItem]:
    """Send every pending row due at ``now`` that the rules allow; return the rows sent."""
    sent = []
    due = session.scalars(
        select(OutboxItem).where(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.due_at <= now)
        .order_by(OutboxItem.due_at, OutboxItem.id)
    ).all()
    rules = SendTimeRules(playbook)
    for item in due:
        decision = rules.check(session, item, None, now)
        if decision.withdraw:
            item.status, item.withdrawn_reason, item.updated_at = OutboxStatus.WITHDRAWN, decision.reason, now
        elif decision.allowed:
            mark_sent(session, item, now)
            sent.append(item)
        else:
            assert decision.retry_at is not None and decision.retry_at > now
            item.due_at, item.updated_at = decision.retry_at, now
    session.flush()
    return sent


def ticks(start: date, end: date, clock: Iterable[time] = (time(8, 0), time(9, 0), time(10, 0), time(14, 0))
          ) -> Iterator[datetime]:
    day = start
    while day <= end:
        for moment in clock:
            yield datetime.combine(day, moment, tzinfo=STOCKHOLM).astimezone(UTC)
        day += timedelta(days=1)


def walk(sessions: sessionmaker[Session], moments: Iterable[datetime], playbook: Playbook = PLAYBOOK,
         on_tick: object = None) -> list[PlanReport]:
    """Plan, then dispatch, at each moment; ``on_tick(session, now)`` may change facts first."""
    reports = []
    for now in moments:
        if on_tick is not None:
            with transaction(sessions) as session:
                on_tick(session, now)  # type: ignore[operator]
        reports.append(plan(sessions, now, playbook))
        with transaction(sessions) as session:
            dispatch(session, now, playbook)
    return reports


def outbox(session: Session, case: Case | None = None) -> list[OutboxItem]:
    query = select(OutboxItem).order_by(OutboxItem.id)
    if case is not None:
        query = query.where(OutboxItem.case_id == case.id)
    return list(session.scalars(query))


def tasks(session: Session, case: Case | None = None) -> list[Task]:
    query = select(Task).order_by(Task.id)
    if case is not None:
        query = query.where(Task.case_id == case.id)
    return list(session.scalars(query))
