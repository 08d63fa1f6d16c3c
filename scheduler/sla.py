"""Task service levels: an open task past its due time moves up the inbox, once, and says so.

Staff work the inbox from the top; a promise made to a tenant ("a person will call you by
tomorrow") is kept by making the overdue task harder to miss, not by a silent flag.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEntry, Task, TaskStatus

ESCALATION_STEP = 10
HIGHEST_NON_URGENT = 1  # 0 is reserved for urgent tasks


def escalate_overdue_tasks(session: Session, now: datetime, limit: int = 500) -> int:
    """Raise the priority of open tasks past due (once per task); return how many moved."""
    overdue = session.scalars(
        select(Task)
        .where(Task.status != TaskStatus.CLOSED, Task.due_at.is_not(None), Task.due_at < now)
        .order_by(Task.due_at)
        .limit(limit)
    ).all()
    moved = 0
    for task in overdue:
        already = session.scalar(
            select(AuditEntry.id).where(
                AuditEntry.action == "task_escalated", AuditEntry.object_type == "task",
                AuditEntry.object_id == str(task.id),
            )
        )
        if already is not None or task.priority <= HIGHEST_NON_URGENT:
            continue
        before = task.priority
        task.priority = max(HIGHEST_NON_URGENT, task.priority - ESCALATION_STEP)
        session.add(
            AuditEntry(
                at=now, actor="system", action="task_escalated", object_type="task", object_id=str(task.id),
                details={"priority_before": before, "priority_after": task.priority},
            )
        )
        moved += 1
    session.flush()
    return moved
