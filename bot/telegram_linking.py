"""Linking a Telegram chat to a tenant through a one-time deep link.

A bot cannot write first, so the tenant gets ``https://t.me/<bot>?start=<code>`` by SMS or
letter. The code is random, short-lived and used once; only its SHA-256 is stored, so a copy of
the database cannot be used to hijack a link. It never contains a tenant id.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Channel, ContactPoint, TelegramLinkCode, Tenant

CODE_LIFETIME = timedelta(days=14)
TELEGRAM_PRIORITY = 10  # a linked chat is tried before SMS: it is free and the tenant chose it


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def issue_link_code(session: Session, tenant: Tenant, now: datetime, lifetime: timedelta = CODE_LIFETIME) -> str:
    """Create a one-time code for ``tenant`` and return it (the only time it exists in clear)."""
    code = secrets.token_urlsafe(18)  # 24 characters of A-Za-z0-9_-, well under Telegram's 64
    session.add(TelegramLinkCode(code=code_hash(code), tenant_id=tenant.id, created_at=now, expires_at=now + lifetime))
    session.flush()
    return code


class LinkRefusal(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class LinkResult:
    tenant_id: int | None
    refusal: LinkRefusal | None
    newly_linked: bool = False


def link_chat(session: Session, code: str, chat_id: str, now: datetime) -> LinkResult:
    """Bind ``chat_id`` to the code's tenant, once. A repeat by the same chat is not an error."""
    row = session.scalar(select(TelegramLinkCode).where(TelegramLinkCode.code == code_hash(code)))
    if row is None:
        return LinkResult(None, LinkRefusal.UNKNOWN)
    if row.used_at is not None:
        if row.used_by_chat_id == chat_id:
            return LinkResult(row.tenant_id, None)
        return LinkResult(None, LinkRefusal.USED)
    if row.expires_at <= now:
        return LinkResult(None, LinkRefusal.EXPIRED)
    row.used_at = now
    row.used_by_chat_id = chat_id
    point = session.scalar(
        select(ContactPoint).where(
            ContactPoint.tenant_id == row.tenant_id,
            ContactPoint.channel == Channel.TELEGRAM,
            ContactPoint.address == chat_id,
        )
    )
    if point is None:
        session.add(
            ContactPoint(
                tenant_id=row.tenant_id, channel=Channel.TELEGRAM, address=chat_id, verified=True,
                priority=TELEGRAM_PRIORITY, created_at=now,
            )
        )
        newly_linked = True
    else:
        # A second code from a chat that is already linked changes nothing the tenant would notice:
        # no second "you are linked" message. Coming back after blocking the bot is a new link.
        newly_linked = not (point.active and point.verified and not point.opted_out)
        point.active, point.verified = True, True
        if point.opted_out:
            point.opted_out, point.opted_out_at, point.opt_out_source = False, None, None
    session.flush()
    return LinkResult(row.tenant_id, None, newly_linked=newly_linked)
