"""Overdue tasks move up the inbox once; urgent and on-time tasks stay where they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from scheduler.sla import escalate_overdue_tasks
from storage.database import transaction
from storage.models import AuditEntry, Task, TaskKind, TaskStatus
from tests.factories import make_tenant

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_overdue_tasks_are_escalated_once(sessions) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        for kind, priority, due, status in (
            (TaskKind.HELP_REQUEST, 20, NOW - timedelta(hours=1), TaskStatus.OPEN),
            (TaskKind.URGENT, 0, NOW - timedelta(hours=1), TaskStatus.OPEN),
            (TaskKind.PHONE_TENANT, 30, NOW + timedelta(hours=1), TaskStatus.OPEN),
            (TaskKind.OTHER, 40, NOW - timedelta(days=1), TaskStatus.CLOSED),
        ):
            session.add(Task(kind=kind, priority=priority, due_at=due, status=status, tenant_id=tenant.id,
                             summary=kind.value))
    with transaction(sessions) as session:
        assert escalate_overdue_tasks(session, NOW) == 1
    with transaction(sessions) as session:
        assert escalate_overdue_tasks(session, NOW + timedelta(minutes=30)) == 0
    with sessions() as session:
        priorities = dict(session.execute(select(Task.kind, Task.priority)).all())
        audits = session.scalars(select(AuditEntry).where(AuditEntry.action == "task_escalated")).all()
    assert priorities == {TaskKind.HELP_REQUEST: 10, TaskKind.URGENT: 0, TaskKind.PHONE_TENANT: 30,
                          TaskKind.OTHER: 40}
    assert len(audits) == 1
