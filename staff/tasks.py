"""One task as staff work it: everything needed to act, and the actions themselves.

The page brings together what a housing officer would otherwise look up in four systems: the
whole conversation, the case facts as on the legal notice, consent, meetings and earlier tasks.
Every action is audited with identifiers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff import audit
from staff.auth import Viewer
from staff.conversations import Line, conversation, record_view
from staff.disclosure import ConsentSummary, consent_summary
from staff.inbox import priority_band
from staff.replies import channel_order, template_options
from storage.models import (
    Case,
    CaseOutcome,
    CaseStage,
    ContactPoint,
    Meeting,
    MeetingSlot,
    Message,
    StaffUser,
    Task,
    TaskNote,
    TaskStatus,
    Tenant,
)

# Outcomes a person records when a task ends; the case closes on the final ones.
RECORDABLE_OUTCOMES = (CaseOutcome.PAID, CaseOutcome.PAYMENT_PLAN, CaseOutcome.SOCIAL_SERVICES_COMMITMENT,
                       CaseOutcome.MOVED_OUT, CaseOutcome.EVICTED, CaseOutcome.OTHER)
CASE_CLOSING_OUTCOMES = (CaseOutcome.PAID, CaseOutcome.MOVED_OUT, CaseOutcome.EVICTED)


class TaskNotFound(LookupError):
    pass


class TaskActionError(ValueError):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class NoteRow:
    at: datetime
    author: str | None
    body: str


@dataclass(frozen=True)
class MeetingRow:
    meeting_id: int
    starts_at: datetime
    ends_at: datetime
    location: str | None
    status: str
    include_social_services: bool


@dataclass(frozen=True)
class EarlierTask:
    task_id: int
    kind: str
    status: str
    summary: str
    created_at: datetime
    outcome: str | None


@dataclass(frozen=True)
class TaskPage:
    task: Task
    band: str
    assignee: str | None
    tenant: Tenant | None
    case: Case | None
    lines: list[Line]
    consent: ConsentSummary | None
    meetings: list[MeetingRow]
    earlier: list[EarlierTask]
    notes: list[NoteRow]
    contact_points: list[ContactPoint]
    channels: list[str]
    templates: list[str]
    outcomes: tuple[CaseOutcome, ...] = RECORDABLE_OUTCOMES


def _task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return task


def task_with_tenant(session: Session, task_id: int) -> tuple[Task, Tenant]:
    """A task about a tenant (reply, share, preview need one); :class:`TaskNotFound` otherwise."""
    task = _task(session, task_id)
    tenant = session.get(Tenant, task.tenant_id) if task.tenant_id is not None else None
    if tenant is None:
        raise TaskNotFound(task_id)
    return task, tenant


def case_of(session: Session, task: Task) -> Case | None:
    """The task's own case, else the tenant's newest open case (a task about a reply has none)."""
    if task.case_id is not None:
        return session.get(Case, task.case_id)
    if task.tenant_id is None:
        return None
    return session.scalar(
        select(Case).where(Case.tenant_id == task.tenant_id)
        .order_by(Case.closed_at.is_not(None), Case.opened_at.desc(), Case.id.desc()).limit(1)
    )


def task_page(session: Session, viewer: Viewer, task_id: int, now: datetime) -> TaskPage:
    """Everything the task page shows; reading it is recorded in the audit log."""
    task = _task(session, task_id)
    tenant = session.get(Tenant, task.tenant_id) if task.tenant_id else None
    case = case_of(session, task)
    names = dict(session.execute(select(StaffUser.id, StaffUser.display_name)).all())
    notes = [NoteRow(n.created_at, names.get(n.author_id), n.body) for n in task.notes]
    if tenant is None:
        return TaskPage(task, priority_band(task.priority, task.kind), names.get(task.assignee_id), None, None,
                        _orphan_lines(session, task), None, [], [], notes, [], [], [])
    record_view(session, viewer, tenant.id, now, via="task", task_id=task.id)
    meetings = [
        MeetingRow(m.id, slot.starts_at, slot.ends_at, slot.location, m.status.value, m.include_social_services)
        for m, slot in session.execute(
            select(Meeting, MeetingSlot).join(MeetingSlot, MeetingSlot.id == Meeting.slot_id)
            .where(Meeting.tenant_id == tenant.id).order_by(MeetingSlot.starts_at.desc())
        )
    ]
    earlier = [
        EarlierTask(t.id, t.kind.value, t.status.value, t.summary, t.created_at, t.outcome.value if t.outcome else None)
        for t in session.scalars(
            select(Task).where(Task.tenant_id == tenant.id, Task.id != task.id)
            .order_by(Task.created_at.desc()).limit(50)
        )
    ]
    return TaskPage(
        task=task, band=priority_band(task.priority, task.kind), assignee=names.get(task.assignee_id),
        tenant=tenant, case=case, lines=conversation(session, tenant.id, tenant.preferred_language),
        consent=consent_summary(session, tenant, now), meetings=meetings, earlier=earlier, notes=notes,
        contact_points=list(tenant.contact_points), channels=channel_order(session, tenant.id),
        templates=template_options(tenant, case),
    )


def _orphan_lines(session: Session, task: Task) -> list[Line]:
    """A task about a message from an unknown address shows that one message."""
    message = session.get(Message, task.message_id) if task.message_id else None
    if message is None:
        return []
    return [Line(message.created_at, message.direction, message.channel.value, message.body, message.language,
                 message.status.value)]


def assign_to_me(session: Session, viewer: Viewer, task_id: int, now: datetime) -> Task:
    task = _task(session, task_id)
    if task.status is TaskStatus.CLOSED:
        raise TaskActionError("closed")
    task.assignee_id = viewer.id
    task.status = TaskStatus.IN_PROGRESS
    audit.record(session, viewer, "task_assigned", "task", task.id, now, assignee_id=viewer.id)
    return task


def add_note(session: Session, viewer: Viewer, task_id: int, body: str, now: datetime) -> TaskNote:
    task = _task(session, task_id)
    text = body.strip()
    if not text:
        raise TaskActionError("empty_note")
    note = TaskNote(task_id=task.id, author_id=viewer.id, body=text[:5000], created_at=now)
    session.add(note)
    session.flush()
    audit.record(session, viewer, "task_note_added", "task", task.id, now, note_id=note.id)
    return note


def record_outcome(session: Session, viewer: Viewer, task_id: int, outcome: CaseOutcome, now: datetime) -> Task:
    """Set the outcome on the task and its case; a final outcome (paid, moved out, evicted) closes
    the case too, which stops its reminders."""
    if outcome not in RECORDABLE_OUTCOMES:
        raise TaskActionError("unknown_outcome")
    task = _task(session, task_id)
    task.outcome = outcome
    case = case_of(session, task)
    if case is not None:
        case.outcome = outcome
        if outcome in CASE_CLOSING_OUTCOMES and case.closed_at is None:
            case.closed_at = now
            case.stage = CaseStage.CLOSED
            if outcome is CaseOutcome.PAID and case.paid_at is None:
                case.paid_at = now
    audit.record(session, viewer, "outcome_recorded", "task", task.id, now, outcome=outcome.value,
                 case_id=case.id if case else None)
    return task


def close_task(session: Session, viewer: Viewer, task_id: int, now: datetime) -> Task:
    task = _task(session, task_id)
    if task.status is TaskStatus.CLOSED:
        return task
    task.status = TaskStatus.CLOSED
    task.closed_at = now
    task.closed_by_id = viewer.id
    audit.record(session, viewer, "task_closed", "task", task.id, now)
    return task


def reopen_task(session: Session, viewer: Viewer, task_id: int, now: datetime) -> Task:
    task = _task(session, task_id)
    task.status = TaskStatus.OPEN if task.assignee_id is None else TaskStatus.IN_PROGRESS
    task.closed_at = None
    task.closed_by_id = None
    audit.record(session, viewer, "task_reopened", "task", task.id, now)
    return task
