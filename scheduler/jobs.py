"""Bokvar's periodic jobs: the planner, the dispatcher, the reconcile of stale sends, task SLAs.

One :class:`SchedulerJobs` per process. The web app starts it in its lifespan (``bokvar serve``)
and ``bokvar worker`` runs it alone; any number of processes may run it against one PostgreSQL
database:

============  ==========  ======================================================================
job           every       what, and where
============  ==========  ======================================================================
planner       5 min       open cases × playbook → outbox rows and tasks; meeting reminders are
                          steps of the same playbook, so they are planned here too. Only in the
                          process holding the PostgreSQL advisory lock (:mod:`scheduler.leader`);
                          on SQLite in every process (it is idempotent either way).
escalation    5 min       raise overdue tasks (:mod:`scheduler.sla`); leader only, because two
                          processes could both see a task as not yet escalated.
dispatch      2 s         claim due rows and send them until none is due or ``dispatch_budget``
                          seconds have passed, in every process (``SKIP LOCKED`` shares the rows).
                          Planned rows are re-checked by :class:`scheduler.planner.SendTimeRules`.
reconcile     1 min       rows left in ``sending`` by a process that died, once their lease has
                          passed: looked up at the provider, never re-sent blindly.
============  ==========  ======================================================================

Every job also runs at start, so a fresh demo plans at once (and sends, inside the send window).

Channels are handed in (:class:`scheduler.dispatcher.ChannelDirectory`): ``bot`` builds them from
the settings and passes them to this class; nothing here imports ``bot``. With no provider
configured, everything is "sent" through the simulator channel, so the demo shows the whole loop
(planned → sent → visible in the console's simulator) without credentials.

What is logged: counts, ids and reasons; never a phone number, a chat id or a message text.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from scheduler.dispatcher import (
    ChannelDirectory,
    Dispatcher,
    DispatcherConfig,
    DispatchStats,
    has_provider,
    utc_now,
)
from scheduler.leader import Leadership
from scheduler.periodic import PeriodicJob, PeriodicJobs
from scheduler.planner import PlanReport, SendTimeRules, plan
from scheduler.playbook import Playbook, load_playbook
from scheduler.sla import escalate_overdue_tasks
from storage.database import transaction

log = logging.getLogger("bokvar.scheduler")


@dataclass(frozen=True)
class JobIntervals:
    """Seconds between runs of each job, and how long one dispatch run may keep draining."""

    planner: float = 300.0
    escalation: float = 300.0
    dispatch: float = 2.0
    reconcile: float = 60.0
    dispatch_budget: float = 30.0


def worker_name() -> str:
    """Unique per process and start: a restarted process must not mistake the dead one's claims
    for its own (those are reconciled, not continued)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def engine_of(sessions: sessionmaker[Session]) -> Engine:
    bind = sessions.kw.get("bind")
    if isinstance(bind, Engine):
        return bind
    with sessions() as session:
        engine = session.get_bind()
    assert isinstance(engine, Engine)
    return engine


def _counts(stats: DispatchStats) -> str:
    return ", ".join(f"{name} {value}" for name, value in vars(stats).items() if value)


class SchedulerJobs:
    """The four jobs of one process, on one :class:`PeriodicJobs`; each also callable directly."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: ChannelDirectory,
        *,
        intervals: JobIntervals | None = None,
        dispatcher_config: DispatcherConfig | None = None,
        playbook: Playbook | None = None,
        clock: Callable[[], datetime] = utc_now,
        worker: str | None = None,
        leadership: Leadership | None = None,
        extra_jobs: Sequence[PeriodicJob] = (),
    ) -> None:
        """``extra_jobs`` come from the caller (``bot`` adds its sweep of unhandled inbound
        messages): the scheduler runs them alike but knows nothing of what they do."""
        self.sessions = sessions
        self.extra_jobs = tuple(extra_jobs)
        self.intervals = intervals or JobIntervals()
        self.clock = clock
        self.playbook = playbook or load_playbook()
        self.simulated = not has_provider(channels)
        self.dispatcher = Dispatcher(
            sessions, channels, SendTimeRules(self.playbook), worker=worker or worker_name(),
            config=dispatcher_config, clock=clock, simulate_all=self.simulated,
        )
        self.leadership = leadership or Leadership(engine_of(sessions))
        self.totals = DispatchStats()
        self.plans = 0
        every = self.intervals
        self.periodic = PeriodicJobs([
            PeriodicJob("reconcile", every.reconcile, self.reconcile),
            PeriodicJob("planner", every.planner, self.plan),
            PeriodicJob("escalation", every.escalation, self.escalate),
            PeriodicJob("dispatch", every.dispatch, self.dispatch),
            *extra_jobs,
        ])

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.periodic.start()
        mode = "simulator only (no provider configured)" if self.simulated else "providers"
        log.info("scheduler started: worker %s, sending through %s", self.dispatcher.worker, mode)

    async def stop(self, timeout: float = 30.0) -> None:
        await self.periodic.stop(timeout)
        await asyncio.to_thread(self.leadership.release)
        log.info("scheduler stopped: %s", _counts(self.totals) or "nothing sent")

    async def run_all_once(self) -> bool:
        """Each job once, in a sensible order (reconcile, plan, escalate, then drain the outbox);
        False if any of them failed. For ``bokvar worker --once``, cron and tests."""
        first = ("reconcile", *(job.name for job in self.extra_jobs), "planner", "escalation")
        results = [await self.periodic.run_now(name) for name in first]
        results.append(await self.periodic.run_now("dispatch", lambda: self.dispatch(unlimited=True)))
        await asyncio.to_thread(self.leadership.release)
        return all(results)

    # -- the jobs --------------------------------------------------------------------------------

    async def plan(self) -> PlanReport | None:
        """Plan every open case, if this process leads; None when another process does."""
        if not await asyncio.to_thread(self.leadership.acquire):
            return None
        report = await asyncio.to_thread(plan, self.sessions, self.clock(), self.playbook)
        self.plans += 1
        if report.messages or report.tasks or report.withdrawn:
            log.info("planner: %d messages and %d tasks planned, %d withdrawn, %d open cases (%.1f s)",
                     len(report.messages), len(report.tasks), len(report.withdrawn), report.open_cases,
                     report.seconds)
        return report

    async def escalate(self) -> int | None:
        """Move overdue tasks up the inbox, if this process leads; None when another process does."""
        if not await asyncio.to_thread(self.leadership.acquire):
            return None

        def run() -> int:
            with transaction(self.sessions) as session:
                return escalate_overdue_tasks(session, self.clock())

        moved = await asyncio.to_thread(run)
        if moved:
            log.info("escalation: %d overdue tasks moved up the inbox", moved)
        return moved

    async def dispatch(self, *, unlimited: bool = False) -> DispatchStats:
        """Send due rows until none is due or ``intervals.dispatch_budget`` seconds are spent (the
        next tick goes on); ``unlimited`` drains without a time limit (``--once``)."""
        total = DispatchStats()
        deadline = None if unlimited else time.monotonic() + self.intervals.dispatch_budget
        while True:
            stats = await self.dispatcher.run_once(reconcile=False)
            total.add(stats)
            if stats.claimed == 0 or (deadline is not None and time.monotonic() >= deadline):
                break
            if self.periodic.stopping:  # between batches: every claimed row of this one is settled
                break
        self._record(total, "dispatch")
        return total

    async def reconcile(self) -> DispatchStats:
        """Settle rows abandoned in ``sending`` by a process that died (after their lease)."""
        stats = await self.dispatcher.reconcile()
        self._record(stats, "reconcile")
        return stats

    def _record(self, stats: DispatchStats, job: str) -> None:
        self.totals.add(stats)
        counts = _counts(stats)
        if counts:
            log.info("%s: %s", job, counts)
