"""The evaluation set: realistic replies in every catalogue language, with the intent a careful
person would assign. The safety numbers are absolute; the overall floor leaves room for the
set to grow with harder replies before the vocabulary catches up."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from evaluation import load, score, table  # noqa: E402

LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti", "bs", "tr", "pl", "uk", "fi")
INTENTS = ("help", "meeting", "paid", "yes", "no", "opt_out", "opt_in", "urgent", "ack", "choice", "other")


def test_the_set_is_broad_enough() -> None:
    rows = load()
    assert len(rows) >= 300
    per_language = Counter(r["language"] for r in rows)
    assert all(per_language[code] >= 25 for code in LANGUAGES), per_language
    assert set(r["intent"] for r in rows) == set(INTENTS)
    assert all(r["awaiting"] in ("nothing", "menu", "consent", "slot") for r in rows)


def test_safety_numbers_are_perfect_and_accuracy_is_high() -> None:
    s = score(load())
    print(table(s))
    assert s.consent_yes_wrong == 0, s.misses
    assert all(right == total for right, total in s.recall.values()), (s.recall, s.misses)
    assert s.accuracy >= 0.95, "\n".join(s.misses)
