"""The task inbox: what staff should do next, urgent first.

Order is priority (lower first; urgent tasks use 0), then due time (soonest first, tasks without
a due time after those with one), then age. Filters narrow the list; the counts beside them are
always over all open tasks, so "Urgent 3" stays visible while looking at "Mine".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from staff.auth import Viewer
from storage.models import Municipality, StaffUser, Task, TaskKind, TaskStatus, Tenant

URGENT_PRIORITY = 0
PAGE_SIZE = 200


def is_urgent(task: Task) -> bool:
    return task.priority <= URGENT_PRIORITY or task.kind is TaskKind.URGENT


def priority_band(priority: int, kind: TaskKind | None = None) -> str:
    """A name for the badge: colour is never the only cue, the band is written out too."""
    if priority <= URGENT_PRIORITY or kind is TaskKind.URGENT:
        return "urgent"
    if priority <= 20:
        return "high"
    if priority <= 50:
        return "normal"
    return "low"


@dataclass(frozen=True)
class InboxFilters:
    mine: bool = False
    unassigned: bool = False
    urgent: bool = False
    overdue: bool = False
    kind: TaskKind | None = None
    municipality_id: int | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> InboxFilters:
        """Read filters from a query string; unknown or malformed values are ignored, not errors."""
        def flag(name: str) -> bool:
            return query.get(name, "") in ("1", "on", "true")

        kind = query.get("kind") or None
        municipality = query.get("municipality") or ""
        return cls(
            mine=flag("mine"), unassigned=flag("unassigned"), urgent=flag("urgent"), overdue=flag("overdue"),
            kind=TaskKind(kind) if kind in TaskKind._value2member_map_ else None,
            municipality_id=int(municipality) if municipality.isdigit() else None,
        )

    @property
    def active(self) -> bool:
        return any((self.mine, self.unassigned, self.urgent, self.overdue, self.kind, self.municipality_id))


@dataclass(frozen=True)
class InboxRow:
    task_id: int
    kind: TaskKind
    priority: int
    band: str
    status: TaskStatus
    summary: str
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    tenant_id: int | None
    tenant_name: str | None
    tenant_language: str | None
    municipality: str | None
    assignee: str | None
    assigned_to_viewer: bool


@dataclass(frozen=True)
class InboxCounts:
    open: int = 0
    mine: int = 0
    unassigned: int = 0
    urgent: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    counts: InboxCounts
    filters: InboxFilters
    truncated: bool = False
    municipalities: list[tuple[int, str]] = field(default_factory=list)
    kinds: list[TaskKind] = field(default_factory=list)


def _open() -> ColumnElement[bool]:
    return Task.status != TaskStatus.CLOSED


def _urgent() -> ColumnElement[bool]:
    return or_(Task.priority <= URGENT_PRIORITY, Task.kind == TaskKind.URGENT)


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Task.due_at.is_not(None), Task.due_at < now)


def counts(session: Session, viewer: Viewer, now: datetime) -> InboxCounts:
    def count(*conditions: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count(Task.id)).where(_open(), *conditions)) or 0

    return InboxCounts(
        open=count(), mine=count(Task.assignee_id == viewer.id), unassigned=count(Task.assignee_id.is_(None)),
        urgent=count(_urgent()), overdue=count(_overdue(now)),
    )


def list_tasks(session: Session, viewer: Viewer, filters: InboxFilters, now: datetime) -> InboxPage:
    """Open tasks matching ``filters``, urgent first, with the counts for the filter bar."""
    query = (
        select(Task, Tenant, Municipality.name, StaffUser.display_name)
        .outerjoin(Tenant, Tenant.id == Task.tenant_id)
        .outerjoin(Municipality, Municipality.id == Tenant.municipality_id)
        .outerjoin(StaffUser, StaffUser.id == Task.assignee_id)
        .where(_open())
    )
    if filters.mine:
        query = query.where(Task.assignee_id == viewer.id)
    if filters.unassigned:
        query = query.where(Task.assignee_id.is_(None))
    if filters.urgent:
        query = query.where(_urgent())
    if filters.overdue:
        query = query.where(_overdue(now))
    if filters.kind is not None:
        query = query.where(Task.kind == filters.kind)
    if filters.municipality_id is not None:
        query = query.where(Tenant.municipality_id == filters.municipality_id)
    query = query.order_by(
        Task.priority, Task.due_at.is_(None), Task.due_at, Task.created_at, Task.id
    ).limit(PAGE_SIZE + 1)
    found = session.execute(query).all()
    rows = [
        InboxRow(
            task_id=task.id, kind=task.kind, priority=task.priority, band=priority_band(task.priority, task.kind),
            status=task.status, summary=task.summary, due_at=task.due_at,
            overdue=task.due_at is not None and task.due_at < now, created_at=task.created_at,
            tenant_id=tenant.id if tenant else None, tenant_name=tenant.name if tenant else None,
            tenant_language=tenant.preferred_language if tenant else None, municipality=town,
            assignee=assignee, assigned_to_viewer=task.assignee_id == viewer.id,
        )
        for task, tenant, town, assignee in found[:PAGE_SIZE]
    ]
    municipalities = [(m.id, m.name) for m in session.scalars(select(Municipality).order_by(Municipality.name))]
    return InboxPage(rows, counts(session, viewer, now), filters, len(found) > PAGE_SIZE,
                     municipalities, list(TaskKind))
