"""The host of the dialogue: read one stored inbound message, ask the pure core, apply its events.

:func:`process_inbound` runs in **one** transaction per inbound message: it looks up the facts the
dialogue needs (:mod:`bot.conversation_facts`), calls :func:`bot.dialogue.handle`, applies every
event with one small handler each (:mod:`bot.conversation_events`) and stores the next state. The
message is marked handled in the same transaction, so a repeat (a retried webhook, two workers, a
crash before commit) changes nothing. Replies are queued in the outbox, never sent from here.

If the dialogue or a handler fails, the transaction rolls back and :func:`handle_safely` opens a
``reply_needed`` task in a fresh one: what the tenant wrote is already stored, and a person sees
it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation_events import apply_events
from bot.conversation_facts import current_state, gather_facts, store_state
from bot.dialogue import Outcome, handle
from messages import language
from storage.database import transaction
from storage.models import Direction, Message, Task, TaskKind, Tenant

log = logging.getLogger("bokvar.conversation")

BUSY_RETRIES = 3
BUSY_PAUSE_SECONDS = 0.2
FAILED_PRIORITY = 15
"""A reply the bot failed to act on goes near the top: the tenant is waiting for an answer."""


def is_link_command(message: Message) -> bool:
    """A Telegram ``/start`` (linking a chat) is handled by the inbound path, not the dialogue."""
    return message.body.strip().lower().startswith("/start")


def process_inbound(session: Session, message_id: int, now: datetime) -> Outcome | None:
    """Act on inbound message ``message_id`` once; None when there is nothing (more) to do.

    Nothing to do: the message is unknown, outbound, already handled, or from an address that
    belongs to no tenant (the inbound path already made a task for that).
    """
    message = session.scalar(select(Message).where(Message.id == message_id).with_for_update())
    if message is None or message.direction is not Direction.INBOUND or message.handled_at is not None:
        return None
    message.handled_at = now
    if message.tenant_id is None or is_link_command(message):
        return None
    tenant = session.get(Tenant, message.tenant_id)
    assert tenant is not None
    with session.no_autoflush:  # reads only: one flush at the end instead of one per query
        state = current_state(session, tenant, now)
        facts = gather_facts(session, tenant, message, state, now)
    outcome = handle(state, message.payload or message.body, facts, now)
    apply_events(session, tenant, message, facts, outcome.events, now)
    store_state(session, tenant, facts, outcome.next_state, now)
    session.flush()
    return outcome


def _open_failure_task(session: Session, message: Message, now: datetime) -> None:
    message.handled_at = now
    session.add(
        Task(
            kind=TaskKind.REPLY_NEEDED, priority=FAILED_PRIORITY, tenant_id=message.tenant_id,
            case_id=message.case_id, message_id=message.id, due_at=now, created_at=now,
            dedupe_key=f"dialogue-failed:{message.id}",
            summary="The bot could not act on this reply; please read it and answer the tenant.",
        )
    )


def process_in_savepoint(session: Session, message_id: int, now: datetime) -> Outcome | None:
    """:func:`process_inbound` inside the caller's transaction (the simulator stores and handles in
    one); a failure rolls back only the dialogue's part and becomes a task."""
    try:
        with session.begin_nested():
            return process_inbound(session, message_id, now)
    except Exception:  # noqa: BLE001 - the stored reply must reach a person whatever failed
        log.exception("the dialogue failed on inbound message %s; a task is opened", message_id)
        message = session.get(Message, message_id)
        if message is not None and message.handled_at is None:
            _open_failure_task(session, message, now)
        return None


def handle_safely(sessions: sessionmaker[Session], message_id: int, clock: Callable[[], datetime]) -> Outcome | None:
    """:func:`process_inbound` in its own transaction; a failure becomes a task, never a lost reply.

    The language models load (once, seconds) before the transaction starts: on SQLite the write
    lock is taken at its start, and other writers must not wait behind a model load. A busy or
    unreachable database is not the dialogue's fault: the message stays unhandled and the sweep
    (:func:`process_unhandled`) tries again. This never raises: it runs after the webhook's answer.
    """
    language.warm_up()
    for attempt in range(BUSY_RETRIES):
        try:
            with transaction(sessions) as session:
                return process_inbound(session, message_id, clock())
        except OperationalError:
            if attempt + 1 < BUSY_RETRIES:
                time.sleep(BUSY_PAUSE_SECONDS * (attempt + 1))
                continue
            log.warning("database busy; inbound message %s is left for the sweep", message_id)
            return None
        except Exception:  # noqa: BLE001 - any bug must still leave the tenant's words with a person
            log.exception("the dialogue failed on inbound message %s; a task is opened", message_id)
            break
    try:
        with transaction(sessions) as session:
            message = session.get(Message, message_id)
            if message is not None and message.handled_at is None:
                _open_failure_task(session, message, clock())
    except Exception:  # noqa: BLE001 - the sweep will meet the message again
        log.exception("could not open a task for inbound message %s; the sweep will retry", message_id)
    return None


def process_unhandled(sessions: sessionmaker[Session], clock: Callable[[], datetime], limit: int = 200) -> int:
    """Handle inbound messages that were stored but not yet acted on (e.g. a crash in between).

    Run by the scheduler's jobs; returns how many messages it looked at.
    """
    with sessions() as session:
        ids = session.scalars(
            select(Message.id)
            .where(Message.direction == Direction.INBOUND, Message.handled_at.is_(None))
            .order_by(Message.id)
            .limit(limit)
        ).all()
    for message_id in ids:
        handle_safely(sessions, message_id, clock)
    return len(ids)
