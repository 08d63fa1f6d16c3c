"""``bokvar worker`` and ``bokvar serve`` as an operator runs them: real processes, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from dispatch_support import BOKVAR, outbox_statuses, seed_outbox, sent_by, settled, stop_worker, wait_until
from sqlalchemy import Engine

from storage.database import make_engine
from storage.migrate import upgrade
from storage.models import OutboxStatus


def environment(database: Path) -> dict[str, str]:
    """No provider configured: the simulator channel only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOKVAR_", "TWILIO_", "TELEGRAM_"))}
    env["BOKVAR_DATABASE_URL"] = f"sqlite:///{database}"
    return env


@pytest.fixture
def database(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'bokvar.db'}")
    upgrade(engine)
    return engine


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BOKVAR, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_worker_help_and_a_bad_rate(tmp_path: Path) -> None:
    shown = run(["worker", "--help"], tmp_path, environment(tmp_path / "x.db"))
    assert shown.returncode == 0 and shown.stdout.startswith("usage: bokvar worker")
    bad = run(["worker", "--rate", "fax=3"], tmp_path, environment(tmp_path / "x.db"))
    assert bad.returncode == 2 and "is not CHANNEL=MESSAGES_PER_SECOND" in bad.stderr


def test_worker_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    result = run(["worker", "--once"], tmp_path, environment(tmp_path / "empty.db"))
    assert result.returncode == 2
    assert result.stderr.strip().endswith("run 'bokvar db upgrade' first")


def test_worker_once_sends_what_is_due_through_the_simulator(tmp_path: Path, database: Engine) -> None:
    seed_outbox(database, 5)
    result = run(["worker", "--once"], tmp_path, environment(tmp_path / "bokvar.db"))
    assert result.returncode == 0, result.stderr
    assert "ran each job once" in result.stdout and "sent 5" in result.stdout
    assert outbox_statuses(database) == {OutboxStatus.SENT: 5}


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_worker_runs_until_a_signal_and_exits_cleanly(tmp_path: Path, database: Engine, how: signal.Signals) -> None:
    seed_outbox(database, 20)
    process = subprocess.Popen([*BOKVAR, "worker"], cwd=tmp_path, env=environment(tmp_path / "bokvar.db"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        started = process.stdout.readline()
        assert "running, sending through the simulator" in started, process.stderr.read()
        wait_until(lambda: settled(database), timeout=20, what="the worker sending the due rows")
    finally:
        code, out, err = stop_worker(process, how)
    assert code == 0, err
    assert sent_by(out) == 20
    assert "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("jobs", [True, False])
def test_serve_runs_the_jobs_unless_told_not_to(tmp_path: Path, database: Engine, jobs: bool) -> None:
    seed_outbox(database, 3)
    port = _free_port()
    flags = [] if jobs else ["--no-jobs"]
    process = subprocess.Popen(
        [*BOKVAR, "serve", "--port", str(port), "--log-level", "warning", *flags],
        cwd=tmp_path, env=environment(tmp_path / "bokvar.db"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return True
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            return False

    try:
        wait_until(up, timeout=20, what="bokvar serve answering")
        if jobs:
            wait_until(lambda: settled(database), timeout=20, what="the in-process jobs sending the due rows")
        else:
            time.sleep(2.5)  # longer than the dispatch interval: a running dispatcher would have sent them
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=20)
    assert process.returncode in (0, -signal.SIGTERM), err  # uvicorn re-raises the signal once shut down
    assert "Traceback" not in err
    assert ("scheduler stopped: claimed 3, sent 3" in err) is jobs  # stopped with the app, gracefully
    expected = OutboxStatus.SENT if jobs else OutboxStatus.PENDING
    assert outbox_statuses(database) == {expected: 3}
