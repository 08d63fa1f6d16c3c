"""Periodic jobs on APScheduler 3.11: it owns the clock, and nothing else.

APScheduler decides *when*; what to do lives in our tables (outbox rows, tasks), never in job
stores, so nothing is lost if a process dies (``shared/integrations.md``: a late one-off job is
"missed" and deleted). Each job is an interval job on an in-memory store with:

* ``max_instances=1`` and ``coalesce=True``: a run that takes longer than its interval is never
  joined by a second one, and the ticks it missed become one run, not a burst;
* ``misfire_grace_time=None``: a run that starts late (a busy event loop) still runs;
* a guard around the job body: an exception is logged with the job's name, the exception's type
  and the code locations of the traceback, but **not the exception's message** (a database error
  quotes the row it failed on, which may hold a phone number), and the scheduler lives on. The
  next tick simply tries again.

``AsyncIOScheduler`` runs coroutine jobs on the running event loop: the dispatcher is async, and
the planner's and the escalation's synchronous database work runs in worker threads
(``asyncio.to_thread``), so the web app sharing the loop never waits for them.

Stopping is graceful: no new runs start, running ones may finish (an in-flight send gets to record
its provider id), and only after ``timeout`` are they cancelled; a cancelled send leaves its row in
``sending`` for the reconcile job, which never re-sends blindly.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("bokvar.scheduler")

JOB_DEFAULTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}


@dataclass(frozen=True)
class PeriodicJob:
    """A coroutine function run every ``every`` seconds, the first time ``first_after`` after start."""

    name: str
    every: float
    run: Callable[[], Awaitable[object]]
    first_after: float = 0.0


class _ExpectedSkips(logging.Filter):
    """APScheduler warns each time a tick finds the previous run still going. For our jobs that is
    the overlap guard doing its job (a long dispatch drain), not news: count it instead of logging."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances" not in str(record.msg):
            return True
        job = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return getattr(job, "id", None) not in self.names


class PeriodicJobs:
    """Runs :class:`PeriodicJob`\\ s on the running event loop until :meth:`stop`."""

    def __init__(self, jobs: Sequence[PeriodicJob] = ()) -> None:
        self.jobs: dict[str, PeriodicJob] = {}
        self.runs: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self._failing_in_a_row: Counter[str] = Counter()
        self._active: set[asyncio.Task[object]] = set()
        self._stopping = False
        self._scheduler: AsyncIOScheduler | None = None
        self._filter = _ExpectedSkips(set())
        for job in jobs:
            self.add(job)

    def add(self, job: PeriodicJob) -> None:
        if job.name in self.jobs:
            raise ValueError(f"a job named {job.name!r} exists already")
        if job.every <= 0:
            raise ValueError(f"job {job.name!r}: the interval must be positive")
        self.jobs[job.name] = job
        self._filter.names.add(job.name)
        if self._scheduler is not None:
            self._schedule(self._scheduler, job)

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called: long runs should end at their next safe point."""
        return self._stopping

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running and not self._stopping

    async def start(self) -> None:
        """Start on the running loop (call it from a coroutine, e.g. an app's lifespan)."""
        if self._scheduler is not None:
            return
        self._stopping = False
        logging.getLogger("apscheduler.scheduler").addFilter(self._filter)
        scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
        scheduler.add_listener(self._count_skip, EVENT_JOB_MAX_INSTANCES)
        for job in self.jobs.values():
            self._schedule(scheduler, job)
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self, timeout: float = 30.0) -> None:
        """Start no new runs, let running ones finish for up to ``timeout`` seconds, then cancel them."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        self._stopping = True
        scheduler.pause()
        active = set(self._active)
        if active:
            _done, late = await asyncio.wait(active, timeout=timeout)
            for task in late:
                log.warning("stopping: cancelling a run that did not finish within %.0f s", timeout)
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=5)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a loop callback
        logging.getLogger("apscheduler.scheduler").removeFilter(self._filter)

    async def run_now(self, name: str, run: Callable[[], Awaitable[object]] | None = None) -> bool:
        """Run one job once (or ``run`` in its name), guarded like a scheduled run.

        For ``bokvar worker --once`` and tests. Returns False if the run failed (it was logged). It
        does not exclude a scheduled run of the same job: call it when the scheduler is not running.
        """
        job = self.jobs[name]
        return await self._guarded(job if run is None else PeriodicJob(name, job.every, run))

    def _schedule(self, scheduler: AsyncIOScheduler, job: PeriodicJob) -> None:
        async def tick() -> None:
            await self._guarded(job)

        scheduler.add_job(
            tick, "interval", seconds=job.every, id=job.name, name=job.name, replace_existing=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=job.first_after),
        )

    def _count_skip(self, event: JobSubmissionEvent) -> None:
        self.skipped[event.job_id] += 1

    async def _guarded(self, job: PeriodicJob) -> bool:
        if self._stopping:
            return False
        task = asyncio.current_task()
        if task is not None:
            self._active.add(task)
        try:
            await job.run()
        except Exception as error:  # never kill the scheduler; see the module docstring for what is logged
            self.failures[job.name] += 1
            self._failing_in_a_row[job.name] += 1
            where = "".join(traceback.format_tb(error.__traceback__))
            log.error("job %s failed (%s; %d time(s) in a row); it runs again at its next tick. Traceback:\n%s",
                      job.name, type(error).__name__, self._failing_in_a_row[job.name], where.rstrip())
            return False
        finally:
            self.runs[job.name] += 1
            if task is not None:
                self._active.discard(task)
        if self._failing_in_a_row.pop(job.name, 0):
            log.info("job %s ran successfully again", job.name)
        return True
