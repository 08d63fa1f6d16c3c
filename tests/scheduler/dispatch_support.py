"""Helpers for the dispatcher's acceptance tests: many outbox rows in one go, and dispatcher processes.

Every row carries a unique marker in its body (``Bokvar test <key>``), so the fake Twilio's
:meth:`~tests.fakes.twilio_server.FakeTwilio.bodies` counts deliveries per outbox row. Rows are
staff messages: they are not held to the send window, so the tests do not depend on the time of
day they run at.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, update

from storage.models import Channel, ContactPoint, Message, Municipality, OutboxItem, OutboxKind, OutboxStatus, Tenant
from tests.fakes.twilio_server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_SERVICE_NUMBER, FakeTwilio

BOKVAR = [sys.executable, "-m", "bot.cli"]
TERMINAL = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.WITHDRAWN)


def marker(key: str) -> str:
    return f"Bokvar test {key}: hej! Ring oss om hyran."


def seed_outbox(engine: Engine, rows: int, tenants: int | None = None, prefix: str = "row") -> list[str]:
    """``rows`` due staff messages over ``tenants`` tenants (one SMS number each); returns the bodies."""
    tenants = tenants or rows
    now = datetime.now(UTC)
    with engine.begin() as connection:
        town = connection.execute(select(Municipality.id).limit(1)).scalar_one()
        connection.execute(insert(Tenant), [
            {"external_ref": f"{prefix}-T{number}", "name": "Test Tenant", "preferred_language": "sv",
             "municipality_id": town} for number in range(tenants)
        ])
        tenant_ids = connection.execute(
            select(Tenant.id).where(Tenant.external_ref.like(f"{prefix}-T%")).order_by(Tenant.id)
        ).scalars().all()
        connection.execute(insert(ContactPoint), [
            {"tenant_id": tenant_id, "channel": Channel.SMS, "address": f"+4670{number:07d}", "priority": 20}
            for number, tenant_id in enumerate(tenant_ids)
        ])
        keys = [f"{prefix}-{number:05d}" for number in range(rows)]
        connection.execute(insert(OutboxItem), [
            {"dedupe_key": key, "kind": OutboxKind.STAFF, "tenant_id": tenant_ids[number % tenants],
             "body": marker(key), "values": {}, "channel_order": ["sms"], "status": OutboxStatus.PENDING,
             "due_at": now, "attempts": 0}
            for number, key in enumerate(keys)
        ])
    return [marker(key) for key in keys]


def outbox_statuses(engine: Engine) -> Counter[OutboxStatus]:
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all()
    return Counter({OutboxStatus(status): count for status, count in rows})


def settled(engine: Engine) -> bool:
    """True when no outbox row is pending or being sent."""
    statuses = outbox_statuses(engine)
    return sum(count for status, count in statuses.items() if status not in TERMINAL) == 0


def provider_ids_by_body(engine: Engine) -> dict[str, str | None]:
    """Body → provider id of the *recorded* outbound message of each sent row."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Message.body, Message.provider_id)
            .join(OutboxItem, OutboxItem.message_id == Message.id)
            .where(OutboxItem.status == OutboxStatus.SENT)
        ).all()
    return {body: provider_id for body, provider_id in rows}


def expire_claims(engine: Engine) -> int:
    """Let the lease of every claimed row run out now: what waiting the lease out would do."""
    with engine.begin() as connection:
        result = connection.execute(
            update(OutboxItem).where(OutboxItem.status == OutboxStatus.SENDING)
            .values(claimed_until=datetime(2000, 1, 1, tzinfo=UTC))
        )
    return result.rowcount


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)


def worker_environment(database_url: str, fake: FakeTwilio) -> dict[str, str]:
    """A process environment with Twilio pointed at ``fake`` and nothing inherited from ours."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BOKVAR_", "TWILIO_", "TELEGRAM_"))}
    environment.update({
        "BOKVAR_DATABASE_URL": database_url,
        "BOKVAR_PUBLIC_URL": "http://127.0.0.1:9",
        "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": DEFAULT_SERVICE_NUMBER,
        "BOKVAR_TWILIO_API_URL": fake.url,
    })
    return environment


def start_worker(cwd: Path, environment: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """``bokvar worker`` as an operator starts it (fast pace: the fake has no rate limit)."""
    return subprocess.Popen(
        [*BOKVAR, "worker", "--rate", "sms=5000", *args], cwd=cwd, env=environment,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def stop_worker(process: subprocess.Popen[str], how: signal.Signals = signal.SIGTERM) -> tuple[int, str, str]:
    """Signal the worker and collect its exit code and output."""
    if process.poll() is None:
        process.send_signal(how)
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return process.returncode, out, err


def sent_by(output: str) -> int:
    """How many messages a worker said it sent, from its exit summary."""
    found = re.search(r"stopped: .*?\bsent (\d+)", output)
    assert found, f"no summary in the worker's output:\n{output}"
    return int(found.group(1))


def planner_runs(output: str) -> int:
    found = re.search(r"planner runs (\d+)", output)
    assert found, f"no summary in the worker's output:\n{output}"
    return int(found.group(1))
