"""Tasks: what the bot hands to a person, and the notes staff keep on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, enum_column, utc_now
from storage.models.enums import CaseOutcome, TaskKind, TaskStatus
from storage.models.people import Tenant


class Task(Base):
    """A piece of work for staff. Lower ``priority`` comes first; urgent tasks use 0.

    ``summary`` is what staff read in the inbox; it may contain the tenant's words (it is personal
    data and lives only here, never in logs).
    """

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_inbox", "status", "priority", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TaskKind] = mapped_column(enum_column(TaskKind, "task_kind"))
    priority: Mapped[int] = mapped_column(default=50)
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus, "task_status"), default=TaskStatus.OPEN)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    summary: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime | None]
    outcome: Mapped[CaseOutcome | None] = mapped_column(enum_column(CaseOutcome, "case_outcome"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))

    tenant: Mapped[Tenant | None] = relationship()
    notes: Mapped[list[TaskNote]] = relationship(back_populates="task", order_by="TaskNote.created_at")


class TaskNote(Base):
    """A note staff add to a task (who called whom, what was agreed)."""

    __tablename__ = "task_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    task: Mapped[Task] = relationship(back_populates="notes")
