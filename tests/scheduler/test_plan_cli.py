"""``bokvar plan`` as an operator runs it: a real process against a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time, timedelta
from pathlib import Path

from scheduler_factories import local, mark_sent, outbox, tasks
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.commands.plan import parse_at
from storage.database import transaction
from storage.models import ContactPoint, OutboxItem, OutboxKind, OutboxStatus
from tests.factories import make_case, make_tenant

BOKVAR = [sys.executable, "-m", "bot.cli"]


def run(args: list[str], cwd: Path, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BOKVAR_", "TWILIO_", "TELEGRAM_"))}
    if database_url:
        environment["BOKVAR_DATABASE_URL"] = database_url
    return subprocess.run([*BOKVAR, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120)


def _tenants(session: Session) -> None:
    """Six arrears cases due 30 November 2026, each showing one thing the dry run must explain."""
    plain = make_tenant(session, "HG-1", phone="+46701740601")
    make_case(session, plain, "AR-1")
    chat = make_tenant(session, "HG-2", phone="+46701740602", telegram_chat="777")
    make_case(session, chat, "AR-2")
    paid = make_tenant(session, "HG-3", phone="+46701740603")
    make_case(session, paid, "AR-3").paid_at = local(2026, 11, 30, 16, 0)
    stopped = make_tenant(session, "HG-4", phone="+46701740604")
    make_case(session, stopped, "AR-4")
    session.scalars(select(ContactPoint).where(ContactPoint.tenant_id == stopped.id)).one().opted_out = True
    quiet = make_tenant(session, "HG-5", phone="+46701740605")
    quiet.quiet_hours_start, quiet.quiet_hours_end = time(7, 0), time(12, 0)
    make_case(session, quiet, "AR-5")
    busy = make_tenant(session, "HG-6", phone="+46701740606")
    make_case(session, busy, "AR-6")
    session.flush()
    for day in (26, 27, 30):
        item = OutboxItem(dedupe_key=f"earlier:{day}", kind=OutboxKind.PLANNED, tenant_id=busy.id, template_key="menu",
                          values={}, channel_order=["sms"], status=OutboxStatus.PENDING, due_at=local(2026, 11, day))
        session.add(item)
        session.flush()
        mark_sent(session, item, local(2026, 11, day, 10, 0))


def test_plan_help_and_a_bad_time(tmp_path: Path) -> None:
    result = run(["plan", "--help"], tmp_path)
    assert result.returncode == 0 and "--dry-run" in result.stdout and "--at" in result.stdout
    bad = run(["plan", "--dry-run", "--at", "next tuesday"], tmp_path)
    assert bad.returncode == 2 and "2026-12-01 09:00" in bad.stderr


def test_parse_at_is_stockholm_time() -> None:
    assert parse_at("2026-12-01 09:00") == local(2026, 12, 1, 9, 0)
    assert parse_at("2026-07-01T09:00") == local(2026, 7, 1, 9, 0)
    assert parse_at("2026-07-01T09:00+00:00") == local(2026, 7, 1, 11, 0)


def test_dry_run_explains_who_is_contacted_and_why_others_are_not(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        _tenants(session)
    result = run(["plan", "--dry-run", "--at", "2026-12-01 09:00"], tmp_path, database_url)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Plan at Tue 2026-12-01 09:00 Europe/Stockholm" in out and "dry run, nothing written" in out
    lines = out.splitlines()

    def line_of(ref: str, section: str) -> str:
        start = next(i for i, line in enumerate(lines) if line.startswith(section))
        return next(line for line in lines[start + 1:] if f" {ref} " in f" {line} ")

    assert "Tue 2026-12-01 09:00" in line_of("HG-1", "Would contact")
    assert "arrears_first_reminder  via sms" in line_of("HG-1", "Would contact")
    assert "via telegram, sms" in line_of("HG-2", "Would contact")
    assert "Tue 2026-12-01 12:00" in line_of("HG-5", "Would contact") and "held: quiet_hours" in out
    assert "Thu 2026-12-03 10:00" in line_of("HG-6", "Would contact") and "held: cap" in out
    assert line_of("HG-3", "Skipped").endswith(": paid")
    assert line_of("HG-4", "Skipped").endswith(": opted_out")
    assert "skipped: opted_out 1, paid 1" in out
    with transaction(sessions) as session:
        assert [row.dedupe_key for row in outbox(session)] == ["earlier:26", "earlier:27", "earlier:30"]
        assert tasks(session) == []


def test_plan_writes_once(tmp_path: Path, database_url: str, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        _tenants(session)
    first = run(["plan", "--at", "2026-12-01 09:00"], tmp_path, database_url)
    assert first.returncode == 0, first.stderr
    assert "Planned messages (4):" in first.stdout
    assert "Staff tasks opened (1):" in first.stdout  # the opted-out tenant: staff decide
    second = run(["plan", "--at", "2026-12-01 09:05"], tmp_path, database_url)
    assert "Planned messages (0):" in second.stdout and "Staff tasks opened (0):" in second.stdout
    with transaction(sessions) as session:
        planned = [row for row in outbox(session) if row.dedupe_key.startswith("case:")]
        assert len(planned) == 4 and {row.status for row in planned} == {OutboxStatus.PENDING}
        assert min(row.due_at for row in planned) == local(2026, 12, 1, 9, 0)
        assert max(row.due_at for row in planned) == local(2026, 12, 1, 9, 0) + timedelta(days=2, hours=1)
