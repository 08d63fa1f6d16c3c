"""The simulator: play a tenant, see what Bokvar sent them, and answer as they would.

A reply typed here goes through :func:`bot.channels.simulator.reply_as_tenant`, the same inbound
path (and dialogue) as a real SMS, so what happens next in the inbox and outbox is what would
happen for real. When real providers are configured the page is for admins only: a simulated
reply lands in a real tenant's conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.channels.simulator import reply_as_tenant
from staff import audit
from staff.auth import Viewer
from staff.conversations import Line, conversation, record_view
from storage.models import Case, Message, Municipality, Tenant

MAX_REPLY_LENGTH = 1600
TENANT_LIST_LIMIT = 200


@dataclass(frozen=True)
class SimTenant:
    tenant_id: int
    name: str
    external_ref: str
    language: str
    municipality: str
    messages: int
    open_cases: int


def tenants(session: Session) -> list[SimTenant]:
    counts = dict(session.execute(select(Message.tenant_id, func.count(Message.id)).group_by(Message.tenant_id)).all())
    cases = dict(session.execute(
        select(Case.tenant_id, func.count(Case.id)).where(Case.closed_at.is_(None)).group_by(Case.tenant_id)).all())
    return [
        SimTenant(t.id, t.name, t.external_ref, t.preferred_language, town, counts.get(t.id, 0), cases.get(t.id, 0))
        for t, town in session.execute(
            select(Tenant, Municipality.name).join(Municipality, Municipality.id == Tenant.municipality_id)
            .order_by(Tenant.name).limit(TENANT_LIST_LIMIT)
        )
    ]


def thread(session: Session, viewer: Viewer, tenant_id: int, now: datetime) -> tuple[Tenant, list[Line]] | None:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    record_view(session, viewer, tenant.id, now, via="simulator")
    return tenant, conversation(session, tenant.id, tenant.preferred_language)


class SimulatorError(ValueError):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def reply(session: Session, viewer: Viewer, tenant_id: int, text: str, now: datetime) -> int | None:
    """Store ``text`` as the tenant's reply; returns the new message id."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise SimulatorError("no_tenant")
    text = text.strip()
    if not text:
        raise SimulatorError("empty")
    if len(text) > MAX_REPLY_LENGTH:
        raise SimulatorError("too_long")
    received = reply_as_tenant(session, tenant, text, now)
    audit.record(session, viewer, "simulated_reply", "tenant", tenant.id, now, message_id=received.message_id)
    return received.message_id
