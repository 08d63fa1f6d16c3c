"""Staff accounts: creation and password hashing with argon2.

Only argon2 hashes are stored. ``argon2-cffi``'s defaults follow RFC 9106's recommendations and
its ``check_needs_rehash`` lets us raise the cost later without forcing password resets.
"""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AuditEntry, StaffRole, StaffUser

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()


class AccountError(ValueError):
    """A user could not be created; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A random password of about 100 bits, readable enough to type once and then change."""
    return secrets.token_urlsafe(16)


def create_user(
    session: Session, email: str, role: StaffRole, password: str, display_name: str | None = None
) -> StaffUser:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise AccountError(f"a user {email!r} already exists")
    user = StaffUser(
        email=email,
        display_name=display_name or email.split("@", 1)[0],
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    session.add(
        AuditEntry(actor="cli", action="user_created", object_type="staff_user", object_id=str(user.id),
                   details={"role": role.value})
    )
    return user
