"""User administration for admins: list, add (with a one-time password), unlock, deactivate.

Accounts are deactivated, never deleted: the audit log and task history keep pointing at them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff import audit
from staff.accounts import create_user, generate_password
from staff.auth import Viewer
from storage.models import StaffRole, StaffUser


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    display_name: str
    role: StaffRole
    active: bool
    locked: bool
    last_login_at: datetime | None


def list_users(session: Session, now: datetime) -> list[UserRow]:
    return [
        UserRow(u.id, u.email, u.display_name, u.role, u.active,
                u.locked_until is not None and u.locked_until > now, u.last_login_at)
        for u in session.scalars(select(StaffUser).order_by(StaffUser.display_name))
    ]


def add_user(session: Session, viewer: Viewer, email: str, role: StaffRole, name: str | None,
             now: datetime) -> tuple[StaffUser, str]:
    """Create an account; the generated password is returned to be shown once. Raises AccountError."""
    password = generate_password()
    user = create_user(session, email, role, password, (name or "").strip() or None)
    audit.record(session, viewer, "user_created", "staff_user", user.id, now, role=role.value)
    return user, password


def unlock(session: Session, viewer: Viewer, user_id: int, now: datetime) -> None:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise LookupError(user_id)
    user.locked_until = None
    user.failed_logins = 0
    audit.record(session, viewer, "user_unlocked", "staff_user", user.id, now)


def set_active(session: Session, viewer: Viewer, user_id: int, active: bool, now: datetime) -> None:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise LookupError(user_id)
    if user.id == viewer.id and not active:
        raise ValueError("you cannot deactivate your own account")
    user.active = active
    audit.record(session, viewer, "user_activated" if active else "user_deactivated", "staff_user", user.id, now)
