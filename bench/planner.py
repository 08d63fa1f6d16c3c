"""Benchmark: the planner's cost follows open cases, not the number of tenants.

Builds two SQLite databases in a temporary folder with the real migrations: one with 100,000
tenants and one with 200,000, each with the same 20,000 open cases (same dates and amounts; the
owners are spread over the whole table, a few with Telegram or opted out) and, around them,
history that grows with the tenant count: a contact point per tenant, closed cases, sent outbox
rows and inbound messages.
Rows are written with bulk ``executemany`` inserts, so building takes seconds.

For each database it times two kinds of planner run at Tuesday 1 December 2026 09:00 Stockholm:
the first run, which plans (and writes) the steps that are due, on a fresh copy of the built
database each time; and the steady state, a run that finds everything planned already, as every
few minutes in production. Each is repeated (the two databases taking turns) and the best kept,
because a 2-core machine shared with other work is noisy. It prints build times separately and
the ratio of the large database's planning time to the small one's; close to 1.0 means the cost
follows cases.

    .venv/bin/python bench/planner.py [--tenants 200000] [--base 100000] [--open-cases 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, select  # noqa: E402

from scheduler.calendar import STOCKHOLM  # noqa: E402
from scheduler.planner import PlanReport, plan  # noqa: E402
from scheduler.playbook import load_playbook  # noqa: E402
from storage.database import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Case,
    CaseKind,
    CaseOutcome,
    CaseStage,
    Channel,
    ContactPoint,
    Direction,
    Message,
    MessageStatus,
    Municipality,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Tenant,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=STOCKHOLM).astimezone(UTC)
TODAY = date(2026, 12, 1)
BATCH = 20_000
LANGUAGES = ("sv", "ar", "so", "fa", "ti", "en", "pl", "tr", "uk", "fi")


def _insert(engine: Engine, model: type, rows: list[dict[str, object]]) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[start:start + BATCH])


def _open_case(number: int, rng: random.Random) -> dict[str, object]:
    """One of the 20,000 open cases; the mix puts every track of the playbook at work."""
    kind = rng.choices((CaseKind.ARREARS, CaseKind.NOTICE, CaseKind.KRONOFOGDEN), (4, 4, 2))[0]
    row: dict[str, object] = {
        "external_ref": f"OPEN-{number}", "kind": kind, "amount_overdue_ore": rng.randrange(100_000, 5_000_000),
        "rent_due_date": TODAY - timedelta(days=rng.randrange(1, 20)), "opened_at": NOW - timedelta(days=30),
        "updated_at": NOW, "stage": CaseStage.OVERDUE,
    }
    if kind is not CaseKind.ARREARS:
        row["notice_served_on"] = TODAY - timedelta(days=rng.randrange(0, 24))
        row["stage"] = CaseStage.NOTICE_SERVED
    if kind is CaseKind.KRONOFOGDEN:
        row["notice_served_on"] = TODAY - timedelta(days=60)
        row["kronofogden_applied_on"] = TODAY - timedelta(days=rng.randrange(0, 10))
        row["eviction_date"] = TODAY + timedelta(days=rng.randrange(2, 21))
        row["stage"] = CaseStage.EVICTION_SCHEDULED
    if rng.random() < 0.05:
        row["paused_until"] = NOW + timedelta(days=3)
    return row


def build(path: Path, tenants: int, open_cases: int, seed: int = 7) -> tuple[Engine, float]:
    """A migrated database with ``tenants`` tenants and ``open_cases`` open cases; its build time."""
    started = time.perf_counter()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        towns = list(connection.scalars(select(Municipality.id)))
    _insert(engine, Tenant, [
        {"external_ref": f"T-{n}", "name": f"Tenant {n}", "preferred_language": LANGUAGES[n % len(LANGUAGES)],
         "municipality_id": towns[n % len(towns)], "created_at": NOW, "updated_at": NOW}
        for n in range(1, tenants + 1)
    ])
    points = [{"tenant_id": n, "channel": Channel.SMS, "address": f"+4670{n:07d}", "priority": 20,
               "active": True, "verified": True, "opted_out": n % 97 == 0, "created_at": NOW}
              for n in range(1, tenants + 1)]
    points += [{"tenant_id": n, "channel": Channel.TELEGRAM, "address": str(10_000_000 + n), "priority": 10,
                "active": True, "verified": True, "opted_out": False, "created_at": NOW}
               for n in range(1, tenants + 1, 5)]
    _insert(engine, ContactPoint, points)
    # History that grows with the tenants: a closed case for every tenth tenant, a sent message
    # for it, and an inbound message from every fifth tenant.
    closed = [{"external_ref": f"CLOSED-{n}", "tenant_id": n, "kind": CaseKind.ARREARS, "stage": CaseStage.CLOSED,
               "amount_overdue_ore": 0, "rent_due_date": date(2025, 6, 30), "outcome": CaseOutcome.PAID,
               "paid_at": NOW - timedelta(days=400), "opened_at": NOW - timedelta(days=420),
               "closed_at": NOW - timedelta(days=400), "updated_at": NOW}
              for n in range(1, tenants + 1, 10)]
    _insert(engine, Case, closed)
    _insert(engine, OutboxItem, [
        {"dedupe_key": f"history:{n}", "kind": OutboxKind.PLANNED, "tenant_id": n, "template_key": "menu",
         "values": {}, "channel_order": ["sms"], "status": OutboxStatus.SENT, "due_at": NOW - timedelta(days=410),
         "attempts": 1, "created_at": NOW, "updated_at": NOW - timedelta(days=410)}
        for n in range(1, tenants + 1, 10)
    ])
    _insert(engine, Message, [
        {"tenant_id": n, "direction": Direction.INBOUND, "channel": Channel.SMS, "body": "ok",
         "provider_id": f"SM{n}", "status": MessageStatus.RECEIVED, "created_at": NOW - timedelta(days=n % 300)}
        for n in range(1, tenants + 1, 5)
    ])
    # The same open cases in both databases, owned by tenants spread over the whole table.
    rng = random.Random(seed)
    owners = random.Random(seed + 1).sample(range(1, tenants + 1), open_cases)
    _insert(engine, Case, [{**_open_case(i, rng), "tenant_id": owner} for i, owner in enumerate(owners)])
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    return engine, time.perf_counter() - started


def _first_plan(path: Path, scratch: Path) -> PlanReport:
    """The first run (plans and writes) on a fresh copy of the built database.

    A dry run goes first so that the measured run starts warm (statement caches, holiday tables,
    the file in the page cache), like a planner that runs every few minutes.
    """
    for suffix in ("", "-wal", "-shm"):
        Path(f"{scratch}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(path, scratch)
    engine = make_engine(f"sqlite:///{scratch}")
    sessions = make_session_factory(engine)
    playbook = load_playbook()
    plan(sessions, NOW, playbook, dry_run=True)
    report = plan(sessions, NOW, playbook)
    engine.dispose()
    return report


def _steady_plan(engine: Engine, minutes: int) -> float:
    """A run that finds everything planned already: the planner's steady state."""
    return plan(make_session_factory(engine), NOW + timedelta(minutes=minutes), load_playbook()).seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=200_000)
    parser.add_argument("--base", type=int, default=100_000, help="tenants in the comparison database")
    parser.add_argument("--open-cases", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    args = parser.parse_args()
    sizes = (args.base, args.tenants)
    with tempfile.TemporaryDirectory(prefix="bokvar-bench-") as folder:
        built: dict[int, Path] = {}
        for tenants in sizes:
            built[tenants] = Path(folder) / f"planner-{tenants}.db"
            engine, seconds = build(built[tenants], tenants, args.open_cases)
            engine.dispose()
            print(f"build {tenants:>9,} tenants, {args.open_cases:,} open cases: {seconds:6.1f} s", flush=True)
        # The two databases take turns, so a busy neighbour on the machine slows both alike.
        first: dict[int, list[PlanReport]] = {tenants: [] for tenants in sizes}
        steady: dict[int, list[float]] = {tenants: [] for tenants in sizes}
        for _ in range(args.repeat):
            for tenants in sizes:
                first[tenants].append(_first_plan(built[tenants], Path(folder) / f"run-{tenants}.db"))
        engines = {tenants: make_engine(f"sqlite:///{Path(folder) / f'run-{tenants}.db'}") for tenants in sizes}
        for tenants in sizes:
            _steady_plan(engines[tenants], 1)  # warm-up: statement cache, page cache
        for round_number in range(args.repeat):
            for tenants in sizes:
                steady[tenants].append(_steady_plan(engines[tenants], 5 * (round_number + 1)))
        for engine in engines.values():
            engine.dispose()
        best_first = {tenants: min(r.seconds for r in first[tenants]) for tenants in sizes}
        best_steady = {tenants: min(steady[tenants]) for tenants in sizes}
        for tenants in sizes:
            report = first[tenants][0]
            print(f"plan  {tenants:>9,} tenants, {args.open_cases:,} open cases: "
                  f"first plan {best_first[tenants]:5.2f} s "
                  f"({len(report.messages):,} messages, {len(report.tasks):,} tasks, {len(report.skipped):,} skipped), "
                  f"steady-state plan {best_steady[tenants]:5.2f} s (best of {args.repeat})")
    big, base = args.tenants, args.base
    print(f"ratio {big:,} / {base:,} tenants: first plan {best_first[big] / best_first[base]:.2f}, "
          f"steady-state plan {best_steady[big] / best_steady[base]:.2f} (close to 1.0: cost follows open cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
