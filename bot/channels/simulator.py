"""The simulator channel: the default when no provider is configured.

Sending "delivers" at once and returns an id; the text itself is stored by the dispatcher as an
outbound message like on any channel, which is what the console's simulator page shows to whoever
plays the tenant. A simulated reply goes through :func:`bot.inbound.receive`, exactly like an SMS.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from bot.channels.base import Button, Inbound, SentMessage
from bot.conversation import process_in_savepoint
from bot.inbound import Received, receive
from storage.models import Channel as ChannelName
from storage.models import ContactPoint, MessageStatus, Tenant


class SimulatorChannel:
    name = ChannelName.SIMULATOR

    async def send(self, to: str, text: str, buttons: tuple[Button, ...] = ()) -> SentMessage:
        return SentMessage(provider_id=f"sim-{uuid.uuid4().hex}", status=MessageStatus.DELIVERED)


def simulate_reply(session: Session, address: str, text: str, now: datetime, payload: str | None = None) -> Received:
    """A tenant's reply typed into the simulator, taken through the same inbound path as real ones."""
    inbound = Inbound(
        channel=ChannelName.SIMULATOR, address=address, text=text, payload=payload,
        provider_id=f"sim-in-{uuid.uuid4().hex}", received_at=now,
    )
    return receive(session, inbound, now)


def simulator_address(session: Session, tenant: Tenant) -> str:
    """The tenant's address on the simulator channel, created on first use.

    The simulator plays the tenant's phone: it reuses the tenant's SMS number when there is one, so
    what staff see in the console looks like the real conversation would.
    """
    for point in tenant.contact_points:
        if point.channel is ChannelName.SIMULATOR:
            return point.address
    sms = next((p.address for p in tenant.contact_points if p.channel is ChannelName.SMS), None)
    address = sms or f"sim:{tenant.external_ref}"
    session.add(ContactPoint(tenant=tenant, channel=ChannelName.SIMULATOR, address=address, priority=90, verified=True))
    session.flush()
    return address


def reply_as_tenant(session: Session, tenant: Tenant, text: str, now: datetime) -> Received:
    """What the console's simulator page calls: store the reply as a real SMS would be, then let the
    dialogue act on it, as the webhooks do after storing."""
    received = simulate_reply(session, simulator_address(session, tenant), text, now)
    if received.message_id is not None:
        process_in_savepoint(session, received.message_id, now)
    return received
