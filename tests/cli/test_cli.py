"""The ``bokvar`` command as an operator runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.database import make_engine
from tests.storage.snapshots import snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
BOKVAR = [sys.executable, "-m", "bot.cli"]


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BOKVAR_", "TWILIO_", "TELEGRAM_"))}
    environment.update(env or {})
    return subprocess.run(
        [*BOKVAR, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120, **kwargs
    )


@pytest.mark.parametrize(
    "command",
    [[], ["serve"], ["db"], ["db", "upgrade"], ["import"], ["import", "tenants"], ["import", "cases"],
     ["user"], ["user", "add"]],
)
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    result = run([*command, "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: bokvar")


def test_upgrade_import_and_reimport(tmp_path: Path, database_url: str) -> None:
    env = {"BOKVAR_DATABASE_URL": database_url}
    assert run(["db", "upgrade"], tmp_path, env).returncode == 0
    first = run(["import", "tenants", str(EXAMPLES / "tenants.csv")], tmp_path, env)
    assert first.returncode == 0, first.stderr
    assert "tenants: 12 created" in first.stdout
    engine: Engine = make_engine(database_url)
    before = snapshot(engine)
    again = run(["import", "tenants", str(EXAMPLES / "tenants.csv")], tmp_path, env)
    assert "tenants: 0 created, 0 updated, 12 unchanged" in again.stdout
    assert snapshot(engine) == before
    assert run(["import", "cases", str(EXAMPLES / "cases.csv")], tmp_path, env).returncode == 0
    engine.dispose()


def test_a_bad_file_lists_every_problem_and_imports_nothing(tmp_path: Path, database_url: str) -> None:
    env = {"BOKVAR_DATABASE_URL": database_url}
    run(["db", "upgrade"], tmp_path, env)
    rows = [line.split(";") for line in (EXAMPLES / "tenants.csv").read_text(encoding="utf-8").splitlines()]
    header = rows[0]
    rows[6][header.index("phone")] = "+46 70 12"
    rows[8][header.index("case_ref")] = "AR-NEW"
    rows[8][header.index("kind")] = "arrears"
    rows[8][header.index("rent_due_date")] = "2026-11-30"
    rows[8][header.index("amount_overdue")] = "tolv hundra"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(";".join(row) for row in rows) + "\n", encoding="utf-8")
    engine = make_engine(database_url)
    before = snapshot(engine)
    result = run(["import", "tenants", str(bad)], tmp_path, env)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("bad.csv: line 7, column phone: '+46 70 12' is not a valid phone number")
    assert lines[1].startswith("bad.csv: line 9, column amount_overdue: 'tolv hundra' is not an amount")
    assert lines[2] == "bokvar: 2 problems found: nothing was imported"
    assert snapshot(engine) == before
    engine.dispose()


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"BOKVAR_DATABASE_URL": "postgresql//oops"}, "BOKVAR_DATABASE_URL"),
        ({"BOKVAR_DATABASE_URL": "mongodb://db/x"}, "BOKVAR_DATABASE_URL"),
        ({"BOKVAR_TIMEZONE": "Sweden"}, "BOKVAR_TIMEZONE"),
    ],
)
def test_a_wrong_setting_stops_serve_with_one_line(tmp_path: Path, env: dict[str, str], setting: str) -> None:
    result = run(["serve"], tmp_path, env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"bokvar: configuration error: {setting}: ")


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(["db", "upgrade"], tmp_path, {"BOKVAR_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{port}/x"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("bokvar: cannot use the database in BOKVAR_DATABASE_URL: ")


def test_import_refuses_an_old_schema(tmp_path: Path) -> None:
    result = run(["import", "tenants", str(EXAMPLES / "tenants.csv")], tmp_path)
    assert result.returncode == 2
    assert "run 'bokvar db upgrade' first" in result.stderr


def test_user_add_generates_a_password_once(tmp_path: Path) -> None:
    run(["db", "upgrade"], tmp_path)
    created = run(["user", "add", "Anna@Example.se", "--role", "admin"], tmp_path, stdin=subprocess.DEVNULL)
    assert created.returncode == 0, created.stderr
    assert "created admin anna@example.se" in created.stdout
    assert "password (shown once): " in created.stdout
    again = run(["user", "add", "anna@example.se", "--role", "staff"], tmp_path, stdin=subprocess.DEVNULL)
    assert again.returncode == 1
    assert "already exists" in again.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_demo_starts_with_the_example_data(tmp_path: Path) -> None:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BOKVAR_", "TWILIO_", "TELEGRAM_"))}
    process = subprocess.Popen(
        [*BOKVAR, "serve", "--demo", "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        body = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    body = response.read().decode()
                break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.2)
        assert "12 tenants" in body, process.stderr.read() if process.poll() is not None else body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            assert b'"status":"ok"' in response.read()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "bokvar-demo.db").exists()
