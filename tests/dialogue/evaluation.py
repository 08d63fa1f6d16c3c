"""Scoring ``understand`` on the evaluation set ``tests/data/replies.jsonl`` (used by the test and
by ``bench/understand.py --accuracy``) or on the held-out set ``tests/data/replies_heldout.jsonl``.

Run from the repository root to print the table and the misses of any set::

    .venv/bin/python tests/dialogue/evaluation.py                                  # replies.jsonl
    .venv/bin/python tests/dialogue/evaluation.py tests/data/replies_heldout.jsonl
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

EVALUATION_SET = Path(__file__).resolve().parents[1] / "data" / "replies.jsonl"
HELDOUT_SET = Path(__file__).resolve().parents[1] / "data" / "replies_heldout.jsonl"
"""Written blind (without looking at the word lists or the evaluation set), to measure honestly."""


@dataclass
class Score:
    rows: int = 0
    right: int = 0
    misses: list[str] = field(default_factory=list)
    by_language: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_intent: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    consent_yes_predicted: int = 0
    consent_yes_wrong: int = 0
    recall: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def accuracy(self) -> float:
        return self.right / self.rows if self.rows else 0.0


def load(path: Path = EVALUATION_SET) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(rows: list[dict]) -> Score:
    from bot.dialogue import understand

    s = Score()
    for row in rows:
        got = understand(row["text"], row["awaiting"], row.get("language"))
        ok = got.intent.value == row["intent"] and (row.get("choice") is None or got.choice == row["choice"])
        s.rows += 1
        s.right += ok
        for table, key in ((s.by_language, row.get("language", "und")), (s.by_intent, row["intent"])):
            table[key][0] += ok
            table[key][1] += 1
        if row["awaiting"] == "consent" and got.intent.value == "yes":
            s.consent_yes_predicted += 1
            s.consent_yes_wrong += row["intent"] != "yes"
        if row["intent"] in ("opt_out", "urgent"):
            s.recall[row["intent"]][0] += got.intent.value == row["intent"]
            s.recall[row["intent"]][1] += 1
        if not ok:
            s.misses.append(
                f"{row.get('language')} {row['awaiting']} {row['text']!r}: want {row['intent']}, "
                f"got {got.intent.value} {got.choice}"
            )
    return s


def table(s: Score) -> str:
    lines = [f"overall {s.right}/{s.rows} = {s.accuracy:.1%}", "", "language  right/rows  accuracy"]
    for key in sorted(s.by_language):
        r, n = s.by_language[key]
        lines.append(f"{key:8}  {r:4}/{n:<4}  {r / n:7.1%}")
    lines += ["", "intent    right/rows  accuracy"]
    for key in sorted(s.by_intent):
        r, n = s.by_intent[key]
        lines.append(f"{key:8}  {r:4}/{n:<4}  {r / n:7.1%}")
    lines.append("")
    lines.append(f"consent precision: {s.consent_yes_predicted - s.consent_yes_wrong}/{s.consent_yes_predicted}")
    for key, (r, n) in sorted(s.recall.items()):
        lines.append(f"{key} recall: {r}/{n}")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    result = score(load(Path(sys.argv[1]) if len(sys.argv) > 1 else EVALUATION_SET))
    print(table(result))
    for miss in result.misses:
        print("miss:", miss)
