"""The bot's own periodic work, handed to the scheduler's job runner by ``serve`` and ``worker``.

The scheduler package must not know the dialogue, so the bot passes its jobs in: today one, the
sweep that lets the dialogue act on inbound messages that were stored but not handled (the process
died between answering the webhook and running the dialogue, or the database was busy).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import process_unhandled
from messages import language
from scheduler.periodic import PeriodicJob

INBOUND_SWEEP_SECONDS = 15.0
"""Often enough that a tenant left without an answer waits seconds, not minutes."""


def bot_jobs(sessions: sessionmaker[Session], clock: Callable[[], datetime]) -> list[PeriodicJob]:
    async def sweep_inbound() -> int:
        return await asyncio.to_thread(process_unhandled, sessions, clock)

    return [PeriodicJob("inbound_sweep", INBOUND_SWEEP_SECONDS, sweep_inbound, first_after=1.0)]


async def warm_up_language_models() -> None:
    """Load the language models before the first reply arrives (seconds, once per process)."""
    await asyncio.to_thread(language.warm_up)
