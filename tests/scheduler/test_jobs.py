"""The scheduler's jobs: one planner among many processes, runs that never overlap or kill the
scheduler, and the whole loop (plan → dispatch → simulator) wired as ``bokvar serve`` wires it."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from dispatch_support import wait_until
from scheduler_factories import local, make_notice_case
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from bot.app import create_app
from bot.channels.registry import Channels
from bot.settings import load_settings
from scheduler.jobs import JobIntervals, SchedulerJobs
from scheduler.leader import LOCK_NAME, Leadership, lock_key
from scheduler.periodic import PeriodicJob, PeriodicJobs
from storage.database import make_engine, transaction
from storage.models import Channel, Message, OutboxItem, OutboxStatus, Task, TaskKind
from tests.factories import make_tenant

NOW = local(2026, 5, 29, 9, 30)  # a Friday morning: inside the send window
PHONE = "+46701740605"
FAST = JobIntervals(planner=0.2, escalation=0.2, dispatch=0.05, reconcile=0.2, dispatch_budget=5)


# -- periodic jobs -----------------------------------------------------------------------------


def test_a_failing_job_is_logged_without_its_message_and_the_scheduler_lives_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticks: list[int] = []

    async def failing() -> None:
        raise ValueError(f"could not write to {PHONE}")  # e.g. a database error quoting a row

    async def counting() -> None:
        ticks.append(1)

    async def scenario() -> PeriodicJobs:
        jobs = PeriodicJobs([PeriodicJob("failing", 0.05, failing), PeriodicJob("counting", 0.05, counting)])
        await jobs.start()
        await asyncio.sleep(0.6)
        assert jobs.running
        await jobs.stop()
        return jobs

    with caplog.at_level(logging.INFO):
        jobs = asyncio.run(scenario())

    assert jobs.failures["failing"] >= 3 and len(ticks) >= 3
    failures = [record for record in caplog.records if "job failing failed" in record.getMessage()]
    assert len(failures) == jobs.failures["failing"]
    assert "(ValueError; 3 time(s) in a row)" in failures[2].getMessage()
    assert "test_jobs.py" in failures[0].getMessage()  # where it failed is kept
    assert PHONE not in caplog.text  # what it failed on is not


def test_a_slow_job_never_overlaps_itself_and_misses_ticks_quietly(caplog: pytest.LogCaptureFixture) -> None:
    running, overlaps, finished = [0], [0], [0]

    async def slow() -> None:
        running[0] += 1
        overlaps[0] = max(overlaps[0], running[0])
        await asyncio.sleep(0.25)
        running[0] -= 1
        finished[0] += 1

    async def scenario() -> PeriodicJobs:
        jobs = PeriodicJobs([PeriodicJob("slow", 0.02, slow)])
        await jobs.start()
        await asyncio.sleep(0.7)
        await jobs.stop()
        return jobs

    with caplog.at_level(logging.WARNING):
        jobs = asyncio.run(scenario())

    assert overlaps[0] == 1 and finished[0] >= 2
    assert jobs.skipped["slow"] > 5  # the ticks that found it running were skipped...
    assert "maximum number of running instances" not in caplog.text  # ...without a warning each


def test_stop_lets_a_running_job_finish_and_starts_no_new_run() -> None:
    events: list[str] = []

    async def send() -> None:
        events.append("start")
        await asyncio.sleep(0.3)
        events.append("recorded")

    async def scenario() -> None:
        jobs = PeriodicJobs([PeriodicJob("dispatch", 0.05, send)])
        await jobs.start()
        await asyncio.sleep(0.1)
        await jobs.stop(timeout=5)
        await asyncio.sleep(0.2)

    asyncio.run(scenario())
    assert events == ["start", "recorded"]


# -- one planner among many processes -----------------------------------------------------------


def test_only_the_process_holding_the_advisory_lock_plans(database_url: str, engine: Engine,
                                                          sessions: sessionmaker[Session]) -> None:
    """Two processes (two engines, two lock sessions): on PostgreSQL one plans, the other waits and
    takes over when the leader's session ends; on SQLite both may plan (it is idempotent)."""
    other_engine = make_engine(database_url)
    first, second = Leadership(engine), Leadership(other_engine)
    jobs_first = SchedulerJobs(sessions, Channels(), clock=lambda: NOW, leadership=first)
    jobs_second = SchedulerJobs(sessions, Channels(), clock=lambda: NOW, leadership=second)
    try:
        first_report = asyncio.run(jobs_first.plan())
        second_report = asyncio.run(jobs_second.plan())
        assert first_report is not None
        if engine.dialect.name == "sqlite":
            assert second_report is not None
            return
        assert second_report is None and asyncio.run(jobs_second.escalate()) is None
        assert first.acquire() and not second.acquire()  # the leader keeps leading

        first.release()
        assert second.acquire() and not first.acquire()  # a released lock is taken over
        assert asyncio.run(jobs_second.plan()) is not None
    finally:
        first.release()
        second.release()
        other_engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # advisory locks are PostgreSQL's
def test_a_leader_whose_session_dies_gives_the_planner_up(database_url: str, engine: Engine) -> None:
    other_engine = make_engine(database_url)
    leader, follower = Leadership(engine), Leadership(other_engine)
    try:
        assert leader.acquire() and not follower.acquire()
        with engine.connect() as admin:  # the leader's connection is cut (crash, network, failover)
            schema = admin.execute(sa.text("SELECT current_schema()")).scalar_one()
            key = lock_key(LOCK_NAME, schema) & 0xFFFF_FFFF_FFFF_FFFF
            killed = admin.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid = :high AND objid = :low AND objsubid = 1"
            ), {"high": key >> 32, "low": key & 0xFFFF_FFFF}).scalars().all()
        assert killed == [True]
        wait_until(follower.acquire, timeout=5, what="the follower taking the lock over", interval=0.05)
        assert not leader.acquire()  # it notices its lock session is gone and competes like anyone
    finally:
        leader.release()
        follower.release()
        other_engine.dispose()


# -- the whole loop ----------------------------------------------------------------------------


def seed_case_and_overdue_task(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        tenant = make_tenant(session, phone=PHONE)
        make_notice_case(session, tenant, "NT-1", date(2026, 5, 29), amount_ore=1_422_050)
        task = Task(kind=TaskKind.PHONE_TENANT, priority=30, tenant_id=tenant.id, summary="call",
                    due_at=NOW - timedelta(hours=2))
        session.add(task)
        session.flush()
        return task.id


def test_the_jobs_plan_and_send_through_the_simulator_when_no_provider_is_configured(
    sessions: sessionmaker[Session],
) -> None:
    task_id = seed_case_and_overdue_task(sessions)

    async def scenario() -> SchedulerJobs:
        jobs = SchedulerJobs(sessions, Channels(), clock=lambda: NOW, intervals=FAST)
        assert jobs.simulated
        await jobs.start()
        for _ in range(100):
            await asyncio.sleep(0.05)
            if jobs.totals.sent and jobs.periodic.runs["escalation"]:
                break
        await jobs.stop()
        return jobs

    jobs = asyncio.run(scenario())

    assert jobs.totals.sent == 1 and jobs.plans >= 1 and not jobs.periodic.failures
    with sessions() as session:
        [row] = session.scalars(select(OutboxItem)).all()
        message = session.get(Message, row.message_id)
        task = session.get(Task, task_id)
    assert row.status is OutboxStatus.SENT
    assert message is not None and message.channel is Channel.SIMULATOR and "14 220,50 kr" in message.body
    assert task is not None and task.priority == 20  # escalated once


def simulator_settings(database_url: str):  # noqa: ANN201 - bot.settings.Settings
    return load_settings({"BOKVAR_DATABASE_URL": database_url, "BOKVAR_SECRET_KEY": "k" * 40}, env_file=None)


def test_the_app_runs_the_jobs_in_its_lifespan_only_when_asked(
    database_url: str, sessions: sessionmaker[Session],
) -> None:
    seed_case_and_overdue_task(sessions)
    settings = simulator_settings(database_url)

    with TestClient(create_app(settings, sessions, clock=lambda: NOW)) as client:
        assert client.app.state.jobs is None  # type: ignore[attr-defined]
    with sessions() as session:
        assert session.scalar(select(OutboxItem.id)) is None  # nothing planned behind a test's back

    with TestClient(create_app(settings, sessions, clock=lambda: NOW, jobs=True)) as client:
        jobs = client.app.state.jobs  # type: ignore[attr-defined]
        assert isinstance(jobs, SchedulerJobs) and jobs.periodic.running
        for _ in range(100):
            if jobs.totals.sent:
                break
            client.portal.call(asyncio.sleep, 0.05)  # type: ignore[union-attr]
        assert client.get("/healthz").status_code == 200
    assert not jobs.periodic.running
    assert jobs.totals.sent == 1
