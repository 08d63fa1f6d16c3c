"""The audit trail of what staff did in the console: identifiers and codes, never message text.

Reading a tenant's conversation is personal-data processing in its own right (GDPR Art. 30 and
the landlord's own policy), so every view is recorded, not only changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff.auth import Viewer
from storage.models import AuditEntry, StaffUser


def record(session: Session, viewer: Viewer, action: str, object_type: str, object_id: object,
           now: datetime, **details: Any) -> None:
    session.add(AuditEntry(at=now, actor="staff", actor_staff_id=viewer.id, action=action,
                           object_type=object_type, object_id=str(object_id), details=details))


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    who: str
    action: str
    object_type: str
    object_id: str | None
    details: dict[str, Any]


def recent_entries(session: Session, limit: int = 200, object_type: str | None = None,
                   object_id: str | None = None) -> list[AuditRow]:
    query = (select(AuditEntry, StaffUser.email).outerjoin(StaffUser, StaffUser.id == AuditEntry.actor_staff_id)
             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    return [AuditRow(entry.at, email or entry.actor, entry.action, entry.object_type, entry.object_id,
                     dict(entry.details or {}))
            for entry, email in session.execute(query)]
