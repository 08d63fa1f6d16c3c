"""The dispatcher's promise, tested the hard way: every message reaches Twilio exactly once.

The real dispatcher, the real ``TwilioSmsChannel`` and the real ``twilio`` client talk to the fake
Twilio server on 127.0.0.1, which answers a seeded share of requests with 500 or 429, loses
answers to messages it accepted, or holds answers while the dispatcher process is killed with
SIGKILL. The fake counts every accepted message by its body, and each outbox row's body carries a
unique marker, so "exactly once" is counted, not inferred.

* 2,000 rows through 20 % 500/429 answers, in this process (SQLite file);
* lost answers (accepted, then 500 or a dropped connection) are looked up, never re-sent;
* a ``bokvar worker`` killed mid-run, then started again (SQLite and PostgreSQL);
* four ``bokvar worker`` processes draining 5,000 rows on PostgreSQL (``SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from dispatch_support import (
    expire_claims,
    outbox_statuses,
    planner_runs,
    provider_ids_by_body,
    seed_outbox,
    sent_by,
    settled,
    start_worker,
    stop_worker,
    wait_until,
    worker_environment,
)
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.registry import Channels
from bot.channels.twilio_sms import TwilioSmsChannel
from bot.settings import TwilioSettings
from scheduler.dispatcher import AllowAll, Dispatcher, DispatcherConfig, DispatchStats
from storage.database import make_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Message, MessageStatus, OutboxItem, OutboxStatus, Task
from tests.conftest import POSTGRES_URL_VARIABLE
from tests.fakes.twilio_server import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_SERVICE_NUMBER,
    FakeTwilio,
)

FAST = DispatcherConfig(
    backoff_base_seconds=0.02, backoff_cap_seconds=0.3,
    # Exactly-once is the question here, not giving up: a long unlucky run of faults must not end
    # a row as a staff task (that path has tests of its own).
    max_attempts=40,
    rates_per_second={"sms": 100_000.0},
)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'dispatch.db'}")
    upgrade(engine)
    yield engine, make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def quiet_fake() -> Iterator[FakeTwilio]:
    """Status callbacks are another test's subject; here they would only cost time."""
    with FakeTwilio(seed=20, callbacks_enabled=False) as fake:
        yield fake
    assert not fake.errors, "the fake Twilio server failed:\n" + "\n".join(fake.errors)


def sms_channel(fake: FakeTwilio) -> Channels:
    settings = TwilioSettings(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, None, DEFAULT_SERVICE_NUMBER, fake.url)
    return Channels(sms=TwilioSmsChannel(settings, "http://127.0.0.1:9"))


async def drain_until_settled(dispatcher: Dispatcher, engine: Engine, timeout: float) -> DispatchStats:
    """Drain, wait for backoffs to pass, drain again, until every row is sent, failed or withdrawn."""
    total = DispatchStats()
    deadline = time.monotonic() + timeout
    while True:
        total.add(await dispatcher.drain())
        if settled(engine):
            return total
        if time.monotonic() > deadline:
            raise TimeoutError(f"rows still unsettled after {timeout} s: {outbox_statuses(engine)}")
        await asyncio.sleep(0.02)


def assert_exactly_once(fake: FakeTwilio, engine: Engine, bodies: list[str]) -> None:
    counts = fake.bodies()
    duplicated = {body: count for body, count in counts.items() if count > 1}
    assert not duplicated, f"{len(duplicated)} messages reached Twilio more than once"
    assert set(counts) == set(bodies), f"{len(set(bodies) - set(counts))} messages never reached Twilio"
    assert outbox_statuses(engine) == Counter({OutboxStatus.SENT: len(bodies)})
    sids = {message["body"]: message["sid"] for message in fake.messages}
    assert provider_ids_by_body(engine) == sids  # each row records the SID of its one accepted message


def test_2000_messages_through_20_percent_500_and_429_arrive_exactly_once(
    quiet_fake: FakeTwilio, sqlite_file: tuple[Engine, sessionmaker[Session]],
) -> None:
    engine, sessions = sqlite_file
    bodies = seed_outbox(engine, 2000, tenants=500)
    quiet_fake.fail_randomly(0.2, kinds=("500", "429"), retry_after=0)
    dispatcher = Dispatcher(sessions, sms_channel(quiet_fake), AllowAll(), worker="reliability", config=FAST,
                            rng=random.Random(20))

    stats = asyncio.run(drain_until_settled(dispatcher, engine, timeout=120))

    assert_exactly_once(quiet_fake, engine, bodies)
    faults = quiet_fake.faults_injected["500"] + quiet_fake.faults_injected["429"]
    sends = sum(1 for request in quiet_fake.requests if request["method"] == "POST")
    assert 0.15 < faults / sends < 0.25, (faults, sends)
    assert (stats.sent, stats.failed) == (2000, 0)
    assert stats.retried == faults
    # A 500 might have been accepted: each one was looked up at Twilio (and not found) before the retry.
    lookups = sum(1 for request in quiet_fake.requests if request["method"] == "GET")
    assert lookups == quiet_fake.faults_injected["500"]


def test_lost_answers_are_looked_up_not_sent_again(
    quiet_fake: FakeTwilio, sqlite_file: tuple[Engine, sessionmaker[Session]],
) -> None:
    """Twilio accepted the message but the answer was a 500 or never came: the next attempt finds it
    at Twilio and records it instead of sending a second copy."""
    engine, sessions = sqlite_file
    bodies = seed_outbox(engine, 300, tenants=100)
    quiet_fake.fail_randomly(0.3, kinds=("accept_then_500", "accept_then_drop", "500", "429"), retry_after=0)
    dispatcher = Dispatcher(sessions, sms_channel(quiet_fake), AllowAll(), worker="lost", config=FAST,
                            rng=random.Random(3))

    stats = asyncio.run(drain_until_settled(dispatcher, engine, timeout=60))

    assert_exactly_once(quiet_fake, engine, bodies)
    lost = quiet_fake.faults_injected["accept_then_500"] + quiet_fake.faults_injected["accept_then_drop"]
    assert lost > 20
    assert stats.reconciled == lost  # every lost answer was settled by the lookup
    with make_session_factory(engine)() as session:
        assert session.scalar(select(Task.id)) is None


def test_a_lookup_never_takes_an_earlier_identical_message_for_the_lost_one(
    quiet_fake: FakeTwilio, sqlite_file: tuple[Engine, sessionmaker[Session]],
) -> None:
    """Two rows with the same text to the same number (two menus a week apart): the second send gets
    a 500, and the lookup finds the first message. That SID is already the first row's, so the
    second message is sent, not marked as sent with a SID that is not its own."""
    engine, sessions = sqlite_file
    [body] = seed_outbox(engine, 1, prefix="menu")
    dispatcher = Dispatcher(sessions, sms_channel(quiet_fake), AllowAll(), worker="twin", config=FAST)
    asyncio.run(drain_until_settled(dispatcher, engine, timeout=10))
    with engine.begin() as connection:
        first = connection.execute(select(OutboxItem)).one()._asdict()
        connection.execute(insert(OutboxItem), [{
            **{key: first[key] for key in ("kind", "tenant_id", "body", "values", "channel_order")},
            "dedupe_key": "menu-again", "status": OutboxStatus.PENDING, "due_at": first["due_at"], "attempts": 0,
        }])
    quiet_fake.fail_next("500")

    asyncio.run(drain_until_settled(dispatcher, engine, timeout=10))

    assert quiet_fake.bodies() == Counter({body: 2})
    assert outbox_statuses(engine) == Counter({OutboxStatus.SENT: 2})
    with sessions() as session:
        recorded = session.scalars(select(Message.provider_id).where(Message.provider_id.is_not(None))).all()
    assert sorted(recorded) == sorted(message["sid"] for message in quiet_fake.messages)


@pytest.mark.parametrize(("last_failure", "ends"), [("500", "a staff task"), ("accept_then_500", "sent")])
def test_retries_end_with_a_lookup_so_no_one_delivers_a_message_twice(
    quiet_fake: FakeTwilio, sqlite_file: tuple[Engine, sessionmaker[Session]], last_failure: str, ends: str,
) -> None:
    """Out of attempts after a failure that may have sent the message: Twilio is asked first. Found,
    the row is sent; not found, a person is asked to reach the tenant."""
    engine, sessions = sqlite_file
    seed_outbox(engine, 1)
    quiet_fake.fail_next("500")
    quiet_fake.fail_next(last_failure)
    config = DispatcherConfig(backoff_base_seconds=0.01, backoff_cap_seconds=0.05, max_attempts=2,
                              rates_per_second={"sms": 1000.0})
    dispatcher = Dispatcher(sessions, sms_channel(quiet_fake), AllowAll(), worker="last", config=config)

    stats = asyncio.run(drain_until_settled(dispatcher, engine, timeout=10))

    sends = [r for r in quiet_fake.requests if r["method"] == "POST"]
    assert len(sends) == 2  # never a third send
    with sessions() as session:
        tasks = session.scalars(select(Task)).all()
    if ends == "sent":
        assert (stats.reconciled, stats.failed, len(quiet_fake.messages)) == (1, 0, 1)
        assert outbox_statuses(engine) == Counter({OutboxStatus.SENT: 1}) and tasks == []
    else:
        assert (stats.reconciled, stats.failed, quiet_fake.messages) == (0, 1, [])
        assert outbox_statuses(engine) == Counter({OutboxStatus.FAILED: 1})
        assert [task.kind.value for task in tasks] == ["reach_in_person"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_dispatcher_killed_mid_run_sends_nothing_twice_after_restart(
    quiet_fake: FakeTwilio, engine: Engine, database_url: str, tmp_path: Path,
) -> None:
    """SIGKILL while Twilio holds the answers to messages it has accepted: those rows are left in
    ``sending`` with no SID. The restarted worker reconciles them by asking Twilio (once their
    lease has passed) and sends the rest; nothing is sent twice and every row ends sent."""
    bodies = seed_outbox(engine, 400, tenants=400)
    environment = worker_environment(database_url, quiet_fake)

    first = start_worker(tmp_path, environment)
    try:
        quiet_fake.wait_for_messages(80, timeout=30)
        before = len(quiet_fake.messages)
        quiet_fake.fail_next("slow", count=10_000, delay=60)  # accepted, answers held
        quiet_fake.wait_for_messages(before + 3, timeout=10)
        time.sleep(0.2)  # let the rest of the in-flight sends reach Twilio too
    finally:
        first.kill()
        first.wait(timeout=10)
    quiet_fake.clear_faults()

    accepted_before_kill = {message["body"] for message in quiet_fake.messages}
    recorded = {body for body, sid in provider_ids_by_body(engine).items() if sid}
    with make_session_factory(engine)() as session:
        in_doubt = set(session.scalars(
            select(Message.body).join(OutboxItem, OutboxItem.message_id == Message.id)
            .where(OutboxItem.status == OutboxStatus.SENDING, Message.status == MessageStatus.SENDING)
        ))
    assert len(in_doubt & accepted_before_kill) >= 3  # the crash window really was hit
    assert recorded < accepted_before_kill < set(bodies)  # killed mid-run, with work left

    assert expire_claims(engine) >= 3
    second = start_worker(tmp_path, environment)
    try:
        wait_until(lambda: settled(engine), timeout=60, what="the restarted worker settling every row")
    finally:
        code, out, err = stop_worker(second)
    assert code == 0, err

    assert_exactly_once(quiet_fake, engine, bodies)
    sids = {message["body"]: message["sid"] for message in quiet_fake.messages}
    resolved = provider_ids_by_body(engine)
    assert all(resolved[body] == sids[body] for body in in_doubt & accepted_before_kill)
    assert sent_by(out) == len(bodies) - len(accepted_before_kill)


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get(POSTGRES_URL_VARIABLE),
                    reason=f"four dispatchers sharing the outbox need PostgreSQL: set {POSTGRES_URL_VARIABLE}")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_four_dispatcher_processes_send_5000_rows_each_exactly_once(
    quiet_fake: FakeTwilio, engine: Engine, database_url: str, tmp_path: Path,
) -> None:
    bodies = seed_outbox(engine, 5000, tenants=1000)
    environment = worker_environment(database_url, quiet_fake)
    workers = [start_worker(tmp_path, environment) for _ in range(4)]
    try:
        wait_until(lambda: settled(engine), timeout=150, what="four workers draining 5,000 rows", interval=0.5)
    finally:
        results = [stop_worker(worker, signal.SIGTERM) for worker in workers]

    assert [code for code, _out, _err in results] == [0, 0, 0, 0], [err for _c, _o, err in results]
    assert_exactly_once(quiet_fake, engine, bodies)
    sent = [sent_by(out) for _code, out, _err in results]
    assert sum(sent) == 5000
    assert sum(1 for count in sent if count > 0) >= 2, sent  # the rows really were shared
    # Only the worker holding the advisory lock ran the planner.
    assert sorted(planner_runs(out) > 0 for _code, out, _err in results) == [False, False, False, True]
