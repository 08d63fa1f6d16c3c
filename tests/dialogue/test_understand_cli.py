"""``bokvar understand`` as an admin or a benchmark runs it: a real process, JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(stdin: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOKVAR_", "TWILIO_", "TELEGRAM_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "understand", *args],
        input=stdin,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_lines_in_and_out() -> None:
    lines = [
        {"text": "ja jag samtycker", "awaiting": "consent"},
        {"text": "2", "awaiting": "menu", "language": "sv"},
        {"text": "٢", "awaiting": "slot"},
        {"text": "ÅTERKALLA", "language": "sv"},
    ]
    result = run("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out[0] == {
        "text": "ja jag samtycker",
        "awaiting": "consent",
        "intent": "yes",
        "language": "sv",
        "choice": None,
        "confidence": out[0]["confidence"],
    }
    assert out[0]["confidence"] > 0.9
    assert (out[1]["intent"], out[1]["choice"]) == ("meeting", 2)
    assert (out[2]["intent"], out[2]["choice"]) == ("choice", 2)
    assert (out[3]["intent"], out[3]["withdraw"]) == ("no", True)


def test_bad_lines_are_answered_and_reported() -> None:
    result = run('not json\n{"awaiting": "menu"}\n{"text": "ja", "awaiting": "later"}\n{"text": "tack"}\n')
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [("error" in line) for line in out] == [True, True, True, False]
    assert out[3]["intent"] == "ack"


def test_texts_as_arguments() -> None:
    result = run("", "vad betyder det?", "--awaiting", "consent", "--language", "sv")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["intent"] == "other" and answer["question"] is True


def test_help() -> None:
    result = run("", "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: bokvar understand")
