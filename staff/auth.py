"""Logging in and out, throttling guessers, and who may open what.

Passwords are checked against argon2 hashes (:mod:`staff.accounts`). Two throttles stand in a
guesser's way: the account locks for :data:`LOCK_DURATION` after :data:`MAX_FAILURES` wrong
passwords in a row (kept in the database, so it holds across processes and restarts), and each
client address may fail only :data:`IP_MAX_FAILURES` times per :data:`IP_WINDOW` (kept in memory:
it slows a spray over many accounts from one machine; the account lock is the real guarantee).

Every refusal reads the same ("wrong e-mail or password", or "too many attempts") so the login
form does not tell a stranger which addresses have accounts. An unknown e-mail still costs one
argon2 verification, so timing does not tell either.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from staff.accounts import hash_password, verify_password
from storage.models import AuditEntry, StaffRole, StaffUser

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
IP_MAX_FAILURES = 20
IP_WINDOW = timedelta(minutes=15)
_DUMMY_HASH = hash_password("not-a-real-password-only-for-timing")


@dataclass(frozen=True)
class Viewer:
    """The signed-in staff member, as the console needs them (no password hash travels)."""

    id: int
    email: str
    display_name: str
    role: StaffRole

    @property
    def is_admin(self) -> bool:
        return self.role is StaffRole.ADMIN

    def may(self, required: StaffRole) -> bool:
        """Admins may do everything staff may; staff may not open admin pages."""
        return self.role is StaffRole.ADMIN or required is StaffRole.STAFF


def viewer_of(user: StaffUser) -> Viewer:
    return Viewer(user.id, user.email, user.display_name, user.role)


class LoginOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown e-mail, wrong password or inactive account: one answer for all
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    viewer: Viewer | None = None


def authenticate(session: Session, email: str, password: str, now: datetime) -> LoginResult:
    """Check a login attempt and record it (failures count towards the lock; success resets)."""
    email = email.strip().lower()
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email))
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return LoginResult(LoginOutcome.WRONG)
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(LoginOutcome.LOCKED)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCK_DURATION
            user.failed_logins = 0
            session.add(AuditEntry(at=now, actor="system", action="login_locked", object_type="staff_user",
                                   object_id=str(user.id), details={"minutes": LOCK_DURATION.seconds // 60}))
            return LoginResult(LoginOutcome.LOCKED)
        return LoginResult(LoginOutcome.WRONG)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(AuditEntry(at=now, actor="staff", actor_staff_id=user.id, action="login",
                           object_type="staff_user", object_id=str(user.id)))
    return LoginResult(LoginOutcome.OK, viewer_of(user))


def load_viewer(session: Session, user_id: object) -> Viewer | None:
    """The viewer for a session's user id, or None if it is gone or deactivated since login."""
    if not isinstance(user_id, int):
        return None
    user = session.get(StaffUser, user_id)
    if user is None or not user.active:
        return None
    return viewer_of(user)


class AddressThrottle:
    """Failed logins per client address in a sliding window, in this process's memory."""

    def __init__(self, limit: int = IP_MAX_FAILURES, window: timedelta = IP_WINDOW,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window.total_seconds()
        self.monotonic = monotonic
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str) -> deque[float]:
        now = self.monotonic()
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address)) >= self.limit

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(self.monotonic())
            if len(self._failures) > 10_000:  # bound memory under a distributed spray
                self._failures = {a: f for a, f in self._failures.items() if f}

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)
